/**
 * On-call commands that work from the server-side ledger, with no local state (issue 3):
 * `list --all`, `revoke --all`, `reap`, `sessions`, and the audit trail that records it all.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { usePostgres } from '../helpers/servers.js';
import { leaseFiles, makeWorld, roleExists, waitFor, type JitWorld } from '../helpers/jit-cli.js';
import { canLogin, mintUri, openSession, passwordOf, reaperPid, sessionAlive, sleep, whenGone, type UriJson } from './support.js';

// Exclusive: revoke --all and reap act on every login of the server, and the statement log is the server's.
const server = usePostgres(15, { exclusive: true });
const worlds: JitWorld[] = [];
const world = async (env?: NodeJS.ProcessEnv) => {
  const w = await makeWorld(server, { env });
  worlds.push(w);
  return w;
};

afterAll(async () => {
  for (const w of worlds) await w.cleanup().catch(() => {});
});

interface ListAllRow {
  id: string | null;
  database: string;
  role: string | null;
  user: string;
  expires_at: string | null;
  requester: string | null;
  reason: string | null;
  sessions: number;
}

describe('revoke --all over logins minted from several state directories', () => {
  it('revokes every marked login everywhere, ends their sessions and leaves decoys alone', async () => {
    const homes = await Promise.all([world(), world(), world()]);
    const minted: UriJson[] = [];
    for (const w of homes) {
      minted.push(await mintUri(w, ['--role', 'readonly', '--ttl', '15m']));
      minted.push(await mintUri(w, ['--role', 'writer', '--ttl', '10m']));
    }
    const logins = minted.map((m) => m.user);
    expect(new Set(logins).size).toBe(6);
    const open = await openSession(minted[2]!.uri);

    // Decoys: `jitadmin` matches LIKE 'jit_%'; `jit_manual` has our prefix and even a
    // marker-shaped comment, but no membership in the marker role. Neither is jit's.
    const decoyPw = randomBytes(18).toString('base64url');
    const admin = await server.admin();
    try {
      await admin.query(`CREATE ROLE jitadmin LOGIN PASSWORD '${decoyPw}'`);
      await admin.query(`CREATE ROLE jit_manual LOGIN PASSWORD '${decoyPw}'`);
      const fake = JSON.stringify({ id: 'fakefake00', database: 'testdb', role: 'readonly', requester: 'mallory', requester_host: 'x', created_at: new Date().toISOString(), expires_at: new Date(Date.now() - 60_000).toISOString(), max_expires_at: new Date().toISOString() });
      await admin.query(`COMMENT ON ROLE jit_manual IS '${fake}'`);
    } finally {
      await admin.end();
    }

    const oncall = await world(); // a 4th machine: no local leases at all
    expect(await leaseFiles(oncall.home)).toEqual([]);

    const listed = await oncall.run(['list', '--all', '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    const rows = JSON.parse(listed.stdout) as ListAllRow[];
    const users = rows.map((r) => r.user);
    expect(users).not.toContain('jitadmin');
    expect(users).not.toContain('jit_manual');
    for (const m of minted) {
      const row = rows.find((r) => r.user === m.user);
      expect(row, `list --all misses ${m.user}`).toBeDefined();
      expect(row).toMatchObject({ id: m.id, database: 'testdb', role: m.role, requester: `${server.requester}@${hostname()}`, expires_at: m.expires_at });
    }
    expect(rows.find((r) => r.user === minted[2]!.user)!.sessions).toBe(1);

    // Without --yes and without a terminal: refuse, exit 2, touch nothing.
    const unconfirmed = await oncall.run(['revoke', '--all']);
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toMatch(/--yes/);
    for (const l of logins) expect(await roleExists(server, l)).toBe(true);
    expect(await sessionAlive(open)).toBe(true);

    const res = await oncall.run(['revoke', '--all', '--yes']);
    expect(res.code, res.stderr).toBe(0);
    const said = res.stdout + res.stderr;
    for (const l of logins) {
      expect(said).toMatch(new RegExp(`revoked ${l}\\b`));
      expect(await roleExists(server, l)).toBe(false);
    }
    for (const m of minted) expect(await canLogin(m.uri)).toBe(false);
    expect(await sessionAlive(open)).toBe(false);
    await open.end().catch(() => {});

    expect(await roleExists(server, 'jitadmin')).toBe(true);
    expect(await roleExists(server, 'jit_manual')).toBe(true);
    const decoy = (user: string) => `postgresql://${user}:${decoyPw}@127.0.0.1:${server.port}/${server.database}`;
    expect(await canLogin(decoy('jitadmin'))).toBe(true);
    expect(await canLogin(decoy('jit_manual'))).toBe(true);

    const audit = JSON.parse((await oncall.run(['audit', '--json'])).stdout) as Array<Record<string, unknown>>;
    for (const l of logins) expect(audit).toContainEqual(expect.objectContaining({ event: 'revoke', cause: 'revoke-all', login: l }));

    // Naming a decoy explicitly is refused too.
    const named = await oncall.run(['revoke', 'jit_manual']);
    expect(named.code).not.toBe(0);
    expect(await roleExists(server, 'jit_manual')).toBe(true);
  });
});

describe('jit reap', () => {
  it('revokes only the expired logins, from a machine with no local state', async () => {
    const minter = await world({ JIT_NO_REAPER: '1' });
    const short = await mintUri(minter, ['--role', 'short', '--ttl', '5s']);
    const long = await mintUri(minter, ['--role', 'readonly', '--ttl', '15m']);
    expect(await reaperPid(minter.home)).toBeNull();
    await sleep(Math.max(0, Date.parse(short.expires_at) + 1_000 - Date.now()));
    expect(await roleExists(server, short.user)).toBe(true); // nobody reaped it yet

    // An expired login that merely looks like ours (prefix, marker-shaped comment, past VALID
    // UNTIL) but is not a member of the marker role: reap must not touch it.
    const admin = await server.admin();
    try {
      await admin.query(`CREATE ROLE jit_cron_decoy LOGIN VALID UNTIL '2000-01-01 00:00:00+00'`);
      const fake = JSON.stringify({ id: 'decoydecoy', database: 'testdb', role: 'short', requester: 'x', requester_host: 'x', created_at: '2000-01-01T00:00:00.000Z', expires_at: '2000-01-01T00:00:05.000Z', max_expires_at: '2000-01-01T00:01:00.000Z' });
      await admin.query(`COMMENT ON ROLE jit_cron_decoy IS '${fake}'`);
    } finally {
      await admin.end();
    }

    const cron = await world();
    const res = await cron.run(['reap', '--json']);
    expect(res.code, res.stderr).toBe(0);
    const out = JSON.parse(res.stdout) as Array<{ login: string; ok: boolean; database: string }>;
    expect(out).toContainEqual(expect.objectContaining({ login: short.user, ok: true, database: 'testdb' }));
    expect(out.map((o) => o.login)).not.toContain(long.user);
    expect(await roleExists(server, short.user)).toBe(false);
    expect(await roleExists(server, long.user)).toBe(true);
    expect(await canLogin(long.uri)).toBe(true);
    expect(await roleExists(server, 'jit_cron_decoy')).toBe(true);

    const audit = JSON.parse((await cron.run(['audit', '--json'])).stdout) as Array<Record<string, unknown>>;
    expect(audit).toContainEqual(expect.objectContaining({ event: 'revoke', cause: 'reap', login: short.user }));

    // Nothing else expired: a second run reaps nothing and still exits 0.
    const again = await cron.run(['reap', '--json']);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual([]);

    expect((await minter.run(['revoke', long.id])).code).toBe(0);
    expect(await roleExists(server, long.user)).toBe(false);
  });
});

describe('sessions, reasons and the audit trail', () => {
  it('shows who is connected and why, and records every revocation cause without a secret', async () => {
    const w = await world();
    const passwords: string[] = [];

    const ro = await mintUri(w, ['--role', 'readonly', '--ttl', '15m']);
    passwords.push(ro.password);
    const open = await openSession(ro.uri);
    try {
      const s = await w.run(['sessions', '--json']);
      expect(s.code, s.stderr).toBe(0);
      const rows = JSON.parse(s.stdout) as Array<Record<string, unknown>>;
      expect(rows).toContainEqual(
        expect.objectContaining({ database: 'testdb', user: ro.user, requester: `${server.requester}@${hostname()}`, role: 'readonly', client_addr: '127.0.0.1' }),
      );
    } finally {
      await open.end();
    }

    // require_reason: refused without one (no terminal to ask on), listed with it.
    const noReason = await w.run(['uri', 'testdb', '--role', 'support']);
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toMatch(/--reason/);
    const support = await mintUri(w, ['--role', 'support', '--reason', 'INC-42']);
    passwords.push(support.password);
    const table = await w.run(['list', '--all']);
    expect(table.code, table.stderr).toBe(0);
    const line = table.stdout.split('\n').find((l) => l.includes(support.user));
    expect(line, table.stdout).toMatch(/INC-42/);

    // One revocation of each cause this machine can produce.
    const short = await mintUri(w, ['--role', 'short', '--ttl', '5s']); // expiry, by the reaper
    passwords.push(short.password);
    const exec = await w.run(['exec', 'testdb', '--role', 'readonly', '--', process.execPath, '-e', 'process.stdout.write(process.env.DATABASE_URL)']);
    expect(exec.code, exec.stderr).toBe(0);
    passwords.push(passwordOf(exec.stdout)); // exit
    expect((await w.run(['revoke', ro.id])).code).toBe(0); // manual
    expect(await whenGone(server, short.user, Date.parse(short.expires_at) + 4_000)).not.toBeNull();
    // The reaper logs (and audits) once its revoke has returned, a moment after the drop.
    const reaperLog = () => readFile(join(w.home, 'reaper.log'), 'utf8').catch(() => '');
    expect(await waitFor(async () => (await reaperLog()).includes(`revoked ${short.user}`), 5_000)).toBe(true);
    const all = await w.run(['revoke', '--all', '--yes']); // revoke-all: the support login
    expect(all.code, all.stderr).toBe(0);
    await waitFor(async () => (await leaseFiles(w.home)).length === 0, 3_000);

    const res = await w.run(['audit', '--json']);
    expect(res.code).toBe(0);
    const audit = JSON.parse(res.stdout) as Array<Record<string, unknown>>;
    const execLogin = decodeURIComponent(new URL(exec.stdout).username);
    for (const login of [ro.user, support.user, short.user, execLogin]) {
      expect(audit).toContainEqual(expect.objectContaining({ event: 'mint', login, requester: server.requester, database: 'testdb' }));
    }
    expect(audit).toContainEqual(expect.objectContaining({ event: 'mint', login: support.user, reason: 'INC-42', role: 'support' }));
    expect(audit).toContainEqual(expect.objectContaining({ event: 'revoke', login: ro.user, cause: 'manual' }));
    expect(audit).toContainEqual(expect.objectContaining({ event: 'revoke', login: execLogin, cause: 'exit' }));
    expect(audit).toContainEqual(expect.objectContaining({ event: 'revoke', login: short.user, cause: 'expiry' }));
    expect(audit).toContainEqual(expect.objectContaining({ event: 'revoke', login: support.user, cause: 'revoke-all' }));

    const raw = await readFile(join(w.home, 'audit.jsonl'), 'utf8');
    const log = await readFile(join(w.home, 'reaper.log'), 'utf8');
    expect(log).toContain(`revoked ${short.user}`);
    for (const secret of [...passwords, server.adminPassword]) {
      expect(secret.length).toBeGreaterThanOrEqual(16);
      for (const text of [raw, log]) {
        expect(text.includes(secret)).toBe(false);
        expect(text.includes(encodeURIComponent(secret))).toBe(false);
      }
    }
  });
});

describe('revoke --all over many logins with open sessions', () => {
  const logged = server;
  beforeAll(async () => {
    await logged.configure({ log_statement: 'all' });
  });
  afterAll(async () => {
    await logged.configure({ log_statement: 'none' });
  });

  it('blocks every login in one transaction before dropping any, ends every session, drops them all', async () => {
    const w = await makeWorld(logged, { env: { JIT_NO_REAPER: '1' } });
    worlds.push(w);
    const minted: UriJson[] = [];
    for (let i = 0; i < 20; i++) minted.push(await mintUri(w, ['--role', 'readonly', '--ttl', '15m']));
    const open = await Promise.all(minted.map((m) => openSession(m.uri)));
    const before = (await readFile(logged.logFile, 'utf8')).length;

    const res = await w.run(['revoke', '--all', '--yes']);
    expect(res.code, res.stderr).toBe(0);
    for (const m of minted) {
      expect(res.stdout + res.stderr).toMatch(new RegExp(`revoked ${m.user} on testdb \\(1 session\\(s\\) ended\\)`));
      expect(await roleExists(logged, m.user)).toBe(false);
    }
    for (const c of open) expect(await sessionAlive(c)).toBe(false);
    await Promise.all(open.map((c) => c.end().catch(() => {})));
    expect(await leaseFiles(w.home)).toEqual([]);

    // The server's statement log: all NOLOGINs sit in one BEGIN…COMMIT statement, before any DROP ROLE.
    const log = (await readFile(logged.logFile, 'utf8')).slice(before);
    const blocks = minted.map((m) => log.indexOf(`ALTER ROLE "${m.user}" NOLOGIN`));
    for (const at of blocks) expect(at).toBeGreaterThan(-1);
    const firstDrop = log.indexOf('DROP ROLE');
    expect(firstDrop).toBeGreaterThan(Math.max(...blocks));
    const start = log.lastIndexOf('statement: ', Math.min(...blocks));
    const statement = log.slice(start, log.indexOf('COMMIT', Math.max(...blocks)));
    expect(statement.startsWith('statement: BEGIN;')).toBe(true);
    expect(statement.slice(1)).not.toContain('statement: ');

    const audit = JSON.parse((await w.run(['audit', '--json'])).stdout) as Array<Record<string, unknown>>;
    for (const m of minted) {
      expect(audit).toContainEqual(expect.objectContaining({ event: 'revoke', cause: 'revoke-all', login: m.user, terminated_sessions: 1 }));
    }
  });

  it('keeps a login whose session cannot be ended, blocked and reported, and drops the others', async () => {
    const w = await makeWorld(logged, { env: { JIT_NO_REAPER: '1' } });
    worlds.push(w);
    const stuck = await mintUri(w, ['--role', 'readonly', '--ttl', '15m']);
    const other = await mintUri(w, ['--role', 'readonly', '--ttl', '15m']);
    const held = await openSession(stuck.uri);
    const heldOther = await openSession(other.uri);
    // A stopped backend cannot act on the termination signal until it is continued.
    const pid = Number((await held.query('SELECT pg_backend_pid() AS pid')).rows[0].pid);
    process.kill(pid, 'SIGSTOP');
    try {
      const res = await w.run(['revoke', '--all', '--yes']);
      expect(res.code).toBe(1);
      expect(res.stderr.split('\n')).toContain(`failed ${stuck.user} on testdb: end sessions: 1 session(s) still running`);
      expect(res.stdout + res.stderr).toMatch(new RegExp(`revoked ${other.user} on testdb`));
      expect(await roleExists(logged, other.user)).toBe(false);
      expect(await sessionAlive(heldOther)).toBe(false);
      expect(await roleExists(logged, stuck.user)).toBe(true);
      expect(await canLogin(stuck.uri)).toBe(false);
      const audit = JSON.parse((await w.run(['audit', '--json'])).stdout) as Array<Record<string, unknown>>;
      expect(audit).toContainEqual(expect.objectContaining({ event: 'revoke-failed', cause: 'revoke-all', login: stuck.user }));
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await held.end().catch(() => {});
    await heldOther.end().catch(() => {});
    const again = await w.run(['revoke', '--all', '--yes']);
    expect(again.code, again.stderr).toBe(0);
    expect(await roleExists(logged, stuck.user)).toBe(false);
  });
});
