/**
 * Lease lifecycle against a real PostgreSQL 15 and the built binary (issue 3): expiry with no jit
 * process in the foreground, a terminal closed under `jit connect` (the server down across expiry:
 * lifecycle-server-down.test.ts),
 * `jit extend`, and a crash between creating a login and handing it out.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { usePostgres } from '../helpers/servers.js';
import { JIT_BIN, jitRoles, leaseFiles, makeWorld, roleExists, waitFor, type JitWorld } from '../helpers/jit-cli.js';
import { postgresEngine } from '../../src/engines/postgres/postgres-engine.js';
import { LeaseStore } from '../../src/leases/lease-store.js';
import { markerOf, type Lease } from '../../src/leases/lease.js';
import {
  canLogin,
  mintUri,
  openSession,
  processesOfHome,
  reaperPid,
  roleRecord,
  sessionAlive,
  sleep,
  whenGone,
} from './support.js';

const execFileP = promisify(execFile);

const server = usePostgres(15);
const worlds: JitWorld[] = [];
const world = async (env?: NodeJS.ProcessEnv) => {
  const w = await makeWorld(server, { env });
  worlds.push(w);
  return w;
};

afterAll(async () => {
  for (const w of worlds) await w.cleanup().catch(() => {});
});

describe('expiry', () => {
  it('revokes a 5s lease with no jit process in the foreground, and ends its open session', async () => {
    const w = await world();
    const minted = await mintUri(w, ['--role', 'short', '--ttl', '5s']);
    // `jit uri` has exited; only the detached reaper it started is left to do the work.
    const reaper = await reaperPid(w.home);
    expect(reaper, 'jit uri left no reaper behind').not.toBeNull();
    const expiresAt = Date.parse(minted.expires_at);
    expect(expiresAt - Date.now()).toBeGreaterThan(2_000);

    const idle = await openSession(minted.uri);
    try {
      // Not revoked early: still there and usable a moment before expiry.
      await sleep(Math.max(0, expiresAt - Date.now() - 1_000));
      expect(await roleExists(server, minted.user)).toBe(true);
      expect(await sessionAlive(idle)).toBe(true);

      const goneAt = await whenGone(server, minted.user, expiresAt + 4_000);
      expect(goneAt, `${minted.user} outlived its expiry by more than 4s`).not.toBeNull();
      console.log(`[expiry] ${minted.user}: role gone ${goneAt! - expiresAt} ms after expires_at`);

      // Revocation ends open sessions: VALID UNTIL and DROP ROLE alone leave them running.
      expect(await waitFor(async () => !(await sessionAlive(idle)), 2_000)).toBe(true);
      expect(await canLogin(minted.uri)).toBe(false);
      expect(await waitFor(async () => (await leaseFiles(w.home)).length === 0, 2_000)).toBe(true);
    } finally {
      await idle.end().catch(() => {});
    }
  });

});

describe('terminal closed under jit connect', () => {
  const tmuxSocket = `jit-e2e-${process.pid}-${randomBytes(3).toString('hex')}`;
  const tmux = (...args: string[]) => execFileP('tmux', ['-L', tmuxSocket, ...args]);
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

  afterAll(async () => {
    await tmux('kill-server').catch(() => {});
  });

  /** `jit connect testdb --role readonly` in a fresh tmux session, up to psql's prompt. */
  async function connectInTmux(w: JitWorld): Promise<{ session: string; lease: Lease }> {
    const env = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: w.dir,
      LANG: 'C.UTF-8',
      TERM: 'xterm',
      JIT_HOME: w.home,
      JIT_POLICY: w.policyFile,
      JIT_TEST_ADMIN_PW: String(w.env.JIT_TEST_ADMIN_PW),
      JIT_REQUESTER: String(w.env.JIT_REQUESTER),
      JIT_REAPER_LINGER: String(w.env.JIT_REAPER_LINGER),
      NO_COLOR: '1',
    };
    const cmd = ['env', '-i', ...Object.entries(env).map(([k, v]) => q(`${k}=${v}`)), q(process.execPath), q(JIT_BIN), 'connect', 'testdb', '--role', 'readonly'].join(' ');
    const session = `c${randomBytes(4).toString('hex')}`;
    await tmux('new-session', '-d', '-s', session, '-x', '200', '-y', '50', cmd);

    let pane = '';
    const prompted = await waitFor(async () => {
      pane = (await tmux('capture-pane', '-p', '-t', session).catch(() => ({ stdout: '' }))).stdout;
      return pane.includes(`${server.database}=>`);
    }, 20_000, 200);
    expect(prompted, `no psql prompt in the pane:\n${pane}`).toBe(true);

    const [file] = await leaseFiles(w.home);
    expect(file).toBeDefined();
    const lease = JSON.parse(await readFile(join(w.home, 'leases', file!), 'utf8')) as Lease;
    expect(await jitRoles(server)).toContain(lease.user);
    return { session, lease };
  }

  async function expectGoneAndNothingLeft(w: JitWorld, lease: Lease, since: number): Promise<string> {
    const goneAt = await whenGone(server, lease.user, since + 5_000);
    expect(goneAt, `${lease.user} survived the terminal closing by more than 5s`).not.toBeNull();
    expect(await waitFor(async () => (await leaseFiles(w.home)).length === 0, 2_000)).toBe(true);
    // jit, psql and (once idle) the reaper all end: nothing of this world keeps running.
    let left: number[] = [];
    const allGone = await waitFor(() => (left = processesOfHome(w.home)).length === 0, 10_000, 200);
    expect(allGone, `processes of ${w.home} still running: ${left.join(', ')}`).toBe(true);
    const reaperLog = await readFile(join(w.home, 'reaper.log'), 'utf8').catch(() => '');
    const by = reaperLog.includes(`revoked ${lease.user} (lease ${lease.id}, exit`) ? 'the reaper' : 'jit connect itself';
    console.log(`[tmux] ${lease.user} gone ${goneAt! - since} ms after the terminal closed, revoked by ${by}`);
    return by;
  }

  it('revokes the login when tmux kills the session holding psql', async () => {
    const w = await world();
    const { session, lease } = await connectInTmux(w);
    expect(processesOfHome(w.home).length).toBeGreaterThanOrEqual(2); // jit connect + psql (+ reaper)
    await tmux('kill-session', '-t', session);
    await expectGoneAndNothingLeft(w, lease, Date.now());
  });

  it('the reaper revokes when jit connect itself dies with the terminal', async () => {
    const w = await world();
    const { session, lease } = await connectInTmux(w);
    // The foreground jit cannot revoke if it is killed outright (OOM killer, kill -9 of the
    // whole group): the reaper sees the lease's owner gone.
    expect(lease.owner?.pid).toBeDefined();
    expect(processesOfHome(w.home)).toContain(lease.owner!.pid);
    process.kill(lease.owner!.pid, 'SIGKILL');
    // jit was the pane's process: its death may already have closed the session.
    await tmux('kill-session', '-t', session).catch(() => {});
    expect(await expectGoneAndNothingLeft(w, lease, Date.now())).toBe('the reaper');
  });
});

describe('jit extend', () => {
  it('moves VALID UNTIL, the server marker and the local lease, never past max_ttl', async () => {
    const w = await world();
    const minted = await mintUri(w, ['--role', 'readonly', '--ttl', '10m']);
    const before = await roleRecord(server, minted.user);
    expect(Math.abs(before!.validUntil!.getTime() - Date.parse(minted.expires_at))).toBeLessThan(1_000);

    const t0 = Date.now();
    const ext = await w.run(['extend', minted.id, '--ttl', '30m']);
    expect(ext.code, ext.stderr).toBe(0);
    const lease = JSON.parse(await readFile(join(w.home, 'leases', `${minted.id}.json`), 'utf8')) as Lease;
    const newExpiry = Date.parse(lease.expiresAt);
    expect(newExpiry).toBeGreaterThanOrEqual(t0 + 30 * 60_000 - 1_000);
    expect(newExpiry).toBeLessThanOrEqual(Date.now() + 30 * 60_000 + 1_000);

    const after = await roleRecord(server, minted.user);
    expect(Math.abs(after!.validUntil!.getTime() - newExpiry)).toBeLessThan(1_000);
    expect(after!.marker?.expires_at).toBe(lease.expiresAt);
    expect(after!.marker?.id).toBe(minted.id);

    const tooLong = await w.run(['extend', minted.id, '--ttl', '2h']);
    expect(tooLong.code).toBe(2);
    expect(tooLong.stderr).toMatch(/^error: .*max_ttl/m);
    expect(tooLong.stderr).toMatch(/^hint: /m);
    // A refused extension changes nothing anywhere.
    const unchanged = await roleRecord(server, minted.user);
    expect(unchanged!.validUntil!.getTime()).toBe(after!.validUntil!.getTime());
    expect(unchanged!.marker?.expires_at).toBe(lease.expiresAt);

    const audit = await w.run(['audit', '--json']);
    expect((JSON.parse(audit.stdout) as Array<{ event: string; lease?: string }>).filter((e) => e.event === 'extend' && e.lease === minted.id)).toHaveLength(1);

    expect((await w.run(['revoke', minted.id])).code).toBe(0);
    expect(await roleExists(server, minted.user)).toBe(false);
  });
});

describe('crash between create and hand-out', () => {
  it('drops a login whose lease never left the intent state, on the next jit command', async () => {
    const w = await world();
    const now = Date.now();
    const login = `jit_${server.requester}_${randomBytes(8).toString('hex')}`;
    const lease: Lease = {
      id: randomBytes(8).toString('hex').replace(/[^a-z0-9]/g, 'a'),
      database: 'testdb',
      role: 'readonly',
      user: login,
      target: server.target(),
      adminSource: 'env:JIT_TEST_ADMIN_PW',
      requester: server.requester,
      requesterHost: 'crashed-host',
      createdAt: new Date(now - 120_000).toISOString(),
      expiresAt: new Date(now + 15 * 60_000).toISOString(),
      maxExpiresAt: new Date(now + 60 * 60_000).toISOString(),
      clockSkewMs: 0,
      state: 'intent',
      command: 'uri',
    };
    await new LeaseStore(w.home).save(lease);
    // The jit that wrote the intent created the login, then died before recording the lease.
    const session = await postgresEngine.connectAdmin(server.target(), server.adminPassword);
    try {
      await session.mint({
        login,
        password: randomBytes(24).toString('base64url'),
        expiresAt: new Date(lease.expiresAt),
        grants: [],
        memberOf: [],
        connectionLimit: -1,
        marker: markerOf(lease),
      });
    } finally {
      await session.close();
    }
    expect(await jitRoles(server)).toContain(login);
    expect(await reaperPid(w.home)).toBeNull();

    const list = await w.run(['list']);
    expect(list.code, list.stderr).toBe(0);
    const goneAt = await whenGone(server, login, Date.now() + 6_000);
    expect(goneAt, `${login} left behind by a crashed mint was not cleaned up`).not.toBeNull();
    expect(await waitFor(async () => (await leaseFiles(w.home)).length === 0, 3_000)).toBe(true);
    const audit = await w.run(['audit', '--json']);
    expect(JSON.parse(audit.stdout)).toContainEqual(expect.objectContaining({ event: 'revoke', login, cause: 'crash-recovery' }));
  });
});
