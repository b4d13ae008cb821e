import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AdminSession, Engine, MintRequest } from '../engines/engine.js';
import type { Lease } from '../leases/lease.js';
import type { MintDeps, ReaperHandOff } from './context.js';
import { postgresProfile } from '../engines/postgres/postgres-profile.js';
import { LeaseStore } from '../leases/lease-store.js';
import { AuditLog } from '../leases/audit-log.js';
import { parsePolicy } from '../policy/parse.js';
import { mintLease } from './mint.js';
import { JitError } from '../core/errors.js';

// The order of a mint as the lifecycle owns it (DESIGN §4): the reaper hand-off is a
// dependency, so what it receives and when is checked here without a reaper process. What the
// server does with the login is the contract suite's business, on real servers; the admin
// session below only records what it was asked.

const POLICY = `version: 1
databases:
  app:
    engine: postgres
    host: db.internal
    port: 5432
    database: app
    tls: disable
    admin:
      user: jit_admin
      password: env:APP_ADMIN_PW
    roles:
      readonly:
        ttl: 15m
        max_ttl: 1h
        grants:
          - privileges: [SELECT]
            tables: [public.orders]
`;

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

interface World {
  deps: MintDeps;
  events: string[];
  handed: Array<{ lease: Lease; secret: string; fileState: string | undefined }>;
  clock: { ms: number };
  /** The fake admin session: a test may replace its methods. */
  session: AdminSession;
}

async function world(handOff?: (lease: Lease, secret: string, w: World) => Promise<void>): Promise<World> {
  const root = await mkdtemp(join(tmpdir(), 'jit-mint-'));
  dirs.push(root);
  const leases = new LeaseStore(join(root, 'state'));
  const clock = { ms: Date.parse('2030-01-01T00:00:00Z') };
  const events: string[] = [];
  const session: AdminSession = {
    serverTime: async () => new Date(clock.ms),
    mint: async (req: MintRequest) => {
      events.push(`mint ${req.login}`);
      return { serverNow: new Date(clock.ms) };
    },
    revoke: async (req) => {
      events.push(`revoke ${req.login}`);
      return { login: req.login, gone: true, terminated: 0, errors: [] };
    },
    close: async () => void events.push('close'),
  } as Partial<AdminSession> as AdminSession;
  const engine = {
    name: 'postgres',
    profile: postgresProfile,
    connectAdmin: async (_target, password) => {
      events.push(`connect as admin with ${password}`);
      return session;
    },
    buildUri: (_t, login, password) => `postgresql://${login}:${password}@db.internal:5432/app`,
    clientEnv: () => ({}),
  } as Partial<Engine> as Engine;
  const handed: World['handed'] = [];
  let self: World | undefined;
  const reaper: ReaperHandOff = {
    prestart: () => void events.push('prestart'),
    handOff: async (lease, secret) => {
      events.push('hand off');
      handed.push({ lease: { ...lease }, secret, fileState: (await leases.get(lease.id))?.state });
      await handOff?.(lease, secret, self!);
    },
  };
  const deps: MintDeps = {
    env: { APP_ADMIN_PW: 'admin-secret-1234' },
    now: () => clock.ms,
    leases,
    audit: new AuditLog(join(root, 'state')),
    requester: { user: 'alice', host: 'laptop' },
    keychain: () => Promise.reject(new Error('no keychain in this test')),
    engine: async () => engine,
    policy: async () => parsePolicy(POLICY, join(root, 'jit.yaml')),
    ui: { notice: () => {}, spinner: () => ({ stop() {} }), canPrompt: () => false, asker: () => Promise.reject(new Error('no prompts')), terminal: false },
    reaper,
  };
  self = { deps, events, handed, clock, session };
  return self;
}

describe('mintLease and the reaper hand-off', () => {
  it('hands the reaper the active lease and the admin secret, after the login exists and before the credential is handed out', async () => {
    const w = await world();
    const minted = await mintLease({ database: 'app', role: 'readonly', command: 'uri', handout: 'handout' }, w.deps);

    expect(w.handed).toHaveLength(1);
    const [h] = w.handed;
    expect(h!.secret).toBe('admin-secret-1234');
    expect(h!.lease.id).toBe(minted.lease.id);
    expect(h!.lease.user).toBe(minted.lease.user);
    // The reaper may act on the file the moment it has the lease: it must already say active.
    expect(h!.fileState).toBe('active');
    // The reaper is started as soon as the request is valid, so its start overlaps the mint.
    expect(w.events).toEqual(['prestart', 'connect as admin with admin-secret-1234', `mint ${minted.lease.user}`, 'close', 'hand off']);
    expect(minted.uri).toContain(minted.lease.user);
  });

  it('hands out nothing when the hand-off took the lease past its expiry (a stalled reaper, a suspended laptop)', async () => {
    const w = await world(async (lease, _secret, world) => {
      world.clock.ms = Date.parse(lease.expiresAt) + 1;
    });
    await expect(mintLease({ database: 'app', role: 'readonly', ttl: '5s', command: 'uri', handout: 'handout' }, w.deps)).rejects.toThrow(/expired before it could be handed out/);
    expect(w.handed).toHaveLength(1);
    // The lease stays for the reaper (and `jit reap`) to revoke.
    expect((await w.deps.leases.get(w.handed[0]!.lease.id))?.state).toBe('active');
  });

  it('refuses a requester name longer than any marker holds (255 characters) before touching a server', async () => {
    const w = await world();
    w.deps.requester = { user: 'x'.repeat(256), host: 'laptop' };
    const err = await mintLease({ database: 'app', role: 'readonly', command: 'uri', handout: 'handout' }, w.deps).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JitError);
    expect((err as JitError).exitCode).toBe(2);
    expect((err as JitError).message).toBe('the requester name is 256 characters long; at most 255 are accepted');
    expect(w.events).toEqual([]);
    w.deps.requester = { user: 'ü'.repeat(255), host: 'laptop' };
    await mintLease({ database: 'app', role: 'readonly', command: 'uri', handout: 'handout' }, w.deps);
    expect(w.events.slice(0, 2)).toEqual(['prestart', 'connect as admin with admin-secret-1234']);
  });
});

describe('mintLease cancelled by a signal', () => {
  const interrupt = () => void process.emit('SIGINT', 'SIGINT');

  it('interrupts a server mint that waits (a lock), drops the login, removes the lease, records the cancel: exit 130', async () => {
    const w = await world();
    let started!: () => void;
    const waiting = new Promise<void>((r) => (started = r));
    w.session.mint = (req) =>
      new Promise((_resolve, reject) => {
        w.events.push(`mint ${req.login}`);
        w.session.cancel = async () => {
          w.events.push('cancel');
          // A second Ctrl-C during the clean-up changes nothing.
          interrupt();
          reject(new JitError('canceling statement due to user request'));
        };
        started();
      });
    const before = process.listenerCount('SIGINT');
    const minting = mintLease({ database: 'app', role: 'readonly', command: 'uri', handout: 'handout' }, w.deps);
    await waiting;
    interrupt();
    const err = (await minting.catch((e: unknown) => e)) as JitError;
    expect(err).toBeInstanceOf(JitError);
    expect(err.exitCode).toBe(130);
    expect(err.message).toBe('cancelled; nothing was handed out');
    const login = w.events[2]!.slice('mint '.length);
    expect(w.events).toEqual(['prestart', 'connect as admin with admin-secret-1234', `mint ${login}`, 'cancel', 'hand off', `revoke ${login}`, 'close']);
    // The reaper had the lease (with the credential) should jit have been killed during the clean-up.
    expect(w.handed.map((h) => h.fileState)).toEqual(['intent']);
    expect(await w.deps.leases.list()).toEqual([]);
    expect(process.listenerCount('SIGINT')).toBe(before);
    const audit = await (w.deps.audit as AuditLog).read();
    expect(audit.map((r) => [r.event, r.error, r.login])).toEqual([['mint-failed', 'cancelled (SIGINT)', login]]);
  });

  it('drops a login the server created although the mint was cancelled meanwhile (an engine that cannot interrupt)', async () => {
    const w = await world();
    w.session.mint = async (req) => {
      w.events.push(`mint ${req.login}`);
      interrupt();
      return { serverNow: new Date(w.clock.ms) };
    };
    const err = (await mintLease({ database: 'app', role: 'readonly', command: 'uri', handout: 'handout' }, w.deps).catch((e: unknown) => e)) as JitError;
    expect(err.exitCode).toBe(130);
    const login = w.events[2]!.slice('mint '.length);
    expect(w.events.slice(2)).toEqual([`mint ${login}`, 'hand off', `revoke ${login}`, 'close']);
    expect(await w.deps.leases.list()).toEqual([]);
  });

  it('leaves SIGINT as it was once a mint is done', async () => {
    const w = await world();
    const before = process.listenerCount('SIGINT');
    await mintLease({ database: 'app', role: 'readonly', command: 'uri', handout: 'handout' }, w.deps);
    expect(process.listenerCount('SIGINT')).toBe(before);
  });
});
