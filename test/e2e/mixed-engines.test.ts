/**
 * One policy with a PostgreSQL and a MariaDB database: every server-wide command (`list --all`,
 * `sessions`, `revoke --all`, `reap`, `doctor`) covers both, and with one server unreachable the
 * other is still served while the command reports the failure and exits 1.
 */
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import type mysql from 'mysql2/promise';
import { usePostgresAndMariadb } from '../helpers/servers.js';
import { jitRoles, makeWorld, testPolicy, type JitWorld } from '../helpers/jit-cli.js';
import { jitAccounts, mysqlCanLogin, mysqlDatabaseEntry, mysqlSession, mysqlSessionAlive } from '../helpers/mysql-cli.js';
import { canLogin, openSession, sessionAlive, sleep, type UriJson } from './support.js';

// Exclusive: revoke --all, reap and exact list --all counts act on every login of both servers.
const [pgs, maria] = usePostgresAndMariadb(15, { exclusive: true });
const worlds: JitWorld[] = [];
const clients: Array<{ end(): Promise<unknown> }> = [];

/** pgdb on the PostgreSQL scope, mydb on the MariaDB scope; `down` points one of them at a closed port. */
function mixedPolicy(down?: { db: 'pgdb' | 'mydb'; port: number }): string {
  const pgPart = testPolicy(down?.db === 'pgdb' ? { ...pgs, port: down.port } : pgs, 'pgdb');
  return pgPart + mysqlDatabaseEntry(maria, 'mydb', 'JIT_TEST_MARIA_PW', down?.db === 'mydb' ? down.port : maria.port);
}

async function world(opts: { down?: { db: 'pgdb' | 'mydb'; port: number }; env?: NodeJS.ProcessEnv } = {}): Promise<JitWorld> {
  const w = await makeWorld(pgs, { policy: mixedPolicy(opts.down), env: { JIT_TEST_MARIA_PW: maria.adminPassword, ...opts.env } });
  worlds.push(w);
  return w;
}

async function mint(w: JitWorld, db: 'pgdb' | 'mydb', role = 'readonly', ttl = '10m'): Promise<UriJson> {
  const res = await w.run(['uri', db, '--role', role, '--ttl', ttl, '--json']);
  expect(res.code, `jit uri ${db} failed: ${res.stderr}`).toBe(0);
  return JSON.parse(res.stdout) as UriJson;
}

/** A port nothing listens on (bound, then closed). */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

interface ListRow { id: string | null; database: string; role: string | null; user: string; state: string; sessions: number }

async function listAll(w: JitWorld): Promise<{ code: number; rows: ListRow[]; stderr: string }> {
  const res = await w.run(['list', '--all', '--json']);
  return { code: res.code, rows: JSON.parse(res.stdout || '[]') as ListRow[], stderr: res.stderr };
}

/** Every jit login on both servers (both scopes are exclusive: nobody else's). */
async function allLogins(): Promise<string[]> {
  return [...(await jitRoles(pgs)), ...(await jitAccounts(maria))].sort();
}

afterAll(async () => {
  await Promise.all(clients.map((c) => c.end().catch(() => {})));
  for (const w of worlds) await w.cleanup().catch(() => {});
});

describe('a policy with a PostgreSQL and a MariaDB database', () => {
  let w: JitWorld;
  beforeAll(async () => {
    w = await world();
  });

  it('doctor checks both and exits 0 when both are healthy', async () => {
    const res = await w.run(['doctor']);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    expect(res.stdout).toMatch(/^ok {4}policy: .* \(2 database\(s\)\)$/m);
    expect(res.stdout).toMatch(new RegExp(`^ok {4}pgdb: admin login: postgres@127\\.0\\.0\\.1:${pgs.port}/${pgs.database} `, 'm'));
    expect(res.stdout).toMatch(new RegExp(`^ok {4}mydb: admin login: ${maria.adminUser}@127\\.0\\.0\\.1:${maria.port}/${maria.database} `, 'm'));
    expect(res.stdout).toMatch(/^ok {4}pgdb: client: \S+\/psql$/m);
    expect(res.stdout).toMatch(/^ok {4}mydb: client: \S+\/mariadb$/m);
    expect(res.stdout).toMatch(/^ok {4}mydb: event scheduler: ON/m);
    const json = JSON.parse((await w.run(['doctor', '--json'])).stdout) as Array<{ name: string; ok: boolean }>;
    expect(json.filter((c) => !c.ok)).toEqual([]);
    expect(json.map((c) => c.name)).toEqual(expect.arrayContaining(['pgdb: admin login', 'mydb: admin login']));
  });

  it('list --all (table and JSON) and sessions show the logins of both; revoke --all --yes revokes both and ends their sessions', async () => {
    expect(await allLogins()).toEqual([]);
    const p = await mint(w, 'pgdb');
    const m = await mint(w, 'mydb');
    const pgc: pg.Client = await openSession(p.uri);
    const myc: mysql.Connection = await mysqlSession(m.uri);
    clients.push(pgc, myc);

    const list = await listAll(w);
    expect(list.code, list.stderr).toBe(0);
    expect(list.rows.map((r) => [r.database, r.user, r.id, r.role, r.state, r.sessions]).sort()).toEqual(
      [['mydb', m.user, m.id, 'readonly', 'active', 1], ['pgdb', p.user, p.id, 'readonly', 'active', 1]],
    );
    const table = await w.run(['list', '--all']);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(new RegExp(`^pgdb\\s+${p.user}\\s+${pgs.requester}@\\S+\\s+readonly\\s`, 'm'));
    expect(table.stdout).toMatch(new RegExp(`^mydb\\s+${m.user}\\s+${pgs.requester}@\\S+\\s+readonly\\s`, 'm'));

    const sessions = await w.run(['sessions', '--json']);
    expect(sessions.code, sessions.stderr).toBe(0);
    const srows = JSON.parse(sessions.stdout) as Array<{ database: string; user: string; role: string; requester: string; client_addr: string | null; since: string | null }>;
    expect(srows.map((r) => [r.database, r.user, r.role]).sort()).toEqual([['mydb', m.user, 'readonly'], ['pgdb', p.user, 'readonly']]);
    for (const r of srows) {
      expect(r.requester).toMatch(new RegExp(`^${pgs.requester}@`));
      expect(r.client_addr).toMatch(/^(127\.0\.0\.1|localhost)$/);
      expect(Date.parse(r.since!)).toBeGreaterThan(Date.now() - 120_000);
    }
    const one = JSON.parse((await w.run(['sessions', 'mydb', '--json'])).stdout) as Array<{ database: string; user: string }>;
    expect(one.map((r) => [r.database, r.user])).toEqual([['mydb', m.user]]);
    const stable = await w.run(['sessions']);
    expect(stable.code, stable.stderr).toBe(0);
    expect(stable.stdout).toMatch(new RegExp(`^pgdb\\s+${p.user}\\s`, 'm'));
    expect(stable.stdout).toMatch(new RegExp(`^mydb\\s+${m.user}\\s`, 'm'));

    // --database: that server's logins only; the other's stays.
    const onlyMy = await w.run(['revoke', '--all', '--database', 'mydb', '--yes']);
    expect(onlyMy.code, onlyMy.stderr).toBe(0);
    expect(await mysqlCanLogin(m.uri)).toBe(false);
    expect(await mysqlSessionAlive(myc)).toBe(false);
    expect(await canLogin(p.uri)).toBe(true);
    expect(await sessionAlive(pgc)).toBe(true);
    const m2 = await mint(w, 'mydb');
    const myc2 = await mysqlSession(m2.uri);
    clients.push(myc2);

    // From another machine (no local state): the servers' markers are enough.
    const other = await world();
    const rev = await other.run(['revoke', '--all', '--yes']);
    expect(rev.code, rev.stderr).toBe(0);
    expect(await allLogins()).toEqual([]);
    expect(await canLogin(p.uri)).toBe(false);
    expect(await sessionAlive(pgc)).toBe(false);
    expect(await mysqlCanLogin(m2.uri)).toBe(false);
    expect(await mysqlSessionAlive(myc2)).toBe(false);
    expect((await listAll(w)).rows).toEqual([]);
  });

  it('reap revokes the expired logins on both servers and leaves the live ones', async () => {
    // Only jit can act: no reaper, and no event on MariaDB (the scheduler off, as by default there).
    await maria.configure({ event_scheduler: 'OFF' });
    try {
      const nr = await world({ env: { JIT_NO_REAPER: '1' } });
      const expiring = [await mint(nr, 'pgdb', 'short', '5s'), await mint(nr, 'mydb', 'short', '5s')];
      const live = [await mint(nr, 'pgdb'), await mint(nr, 'mydb')];
      // Waiting for the clock: the two logins are due once their expiry has passed.
      await sleep(Math.max(...expiring.map((e) => Date.parse(e.expires_at))) + 1_000 - Date.now());
      expect(await allLogins()).toEqual([...expiring, ...live].map((x) => x.user).sort());
      const before = await listAll(nr);
      expect(before.rows.filter((r) => r.state === 'expired').map((r) => r.user).sort()).toEqual(expiring.map((e) => e.user).sort());

      // From another machine: reap needs no local state.
      const cron = await world({ env: { JIT_NO_REAPER: '1' } });
      const res = await cron.run(['reap']);
      expect(res.code, res.stderr).toBe(0);
      expect(res.stderr).toContain(`reaped ${expiring[0]!.user} on pgdb`);
      expect(res.stderr).toContain(`reaped ${expiring[1]!.user} on mydb`);
      expect(await allLogins()).toEqual(live.map((x) => x.user).sort());
      expect(await canLogin(live[0]!.uri)).toBe(true);
      expect(await mysqlCanLogin(live[1]!.uri)).toBe(true);
      const again = await cron.run(['reap']);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stderr).toContain('nothing expired');
    } finally {
      await maria.configure({ event_scheduler: 'ON' });
      await w.run(['revoke', '--all', '--yes']);
    }
    expect(await allLogins()).toEqual([]);
  });
});

describe('with one of the two servers unreachable', () => {
  for (const downDb of ['mydb', 'pgdb'] as const) {
    const upDb = downDb === 'mydb' ? 'pgdb' : 'mydb';
    const canLoginUp = (uri: string) => (upDb === 'pgdb' ? canLogin(uri) : mysqlCanLogin(uri));

    it(`${downDb} down: ${upDb} is still served by list --all, sessions, doctor, reap and revoke --all, which report ${downDb} and exit 1`, async () => {
      const healthy = await world();
      const down = await world({ down: { db: downDb, port: await closedPort() } });
      const up = await mint(down, upDb);
      expect(await canLoginUp(up.uri)).toBe(true);

      const list = await listAll(down);
      expect(list.code).toBe(1);
      expect(list.rows.map((r) => [r.database, r.user])).toEqual([[upDb, up.user]]);
      expect(list.stderr).toMatch(new RegExp(`^error: ${downDb}: `, 'm'));

      const sessions = await down.run(['sessions', '--json']);
      expect(sessions.code).toBe(1);
      expect(JSON.parse(sessions.stdout)).toEqual([]);
      expect(sessions.stderr).toMatch(new RegExp(`^error: ${downDb}: `, 'm'));

      const doctor = await down.run(['doctor']);
      expect(doctor.code).toBe(1);
      expect(doctor.stdout).toMatch(new RegExp(`^ok {4}${upDb}: admin login: `, 'm'));
      expect(doctor.stdout).toMatch(new RegExp(`^FAIL  ${downDb}: admin login: `, 'm'));

      const reap = await down.run(['reap']);
      expect(reap.code).toBe(1);
      expect(reap.stderr).toMatch(new RegExp(`^error: ${downDb}: `, 'm'));
      expect(await canLoginUp(up.uri)).toBe(true); // not expired: not reaped

      const rev = await down.run(['revoke', '--all', '--yes']);
      expect(rev.code).toBe(1);
      expect(rev.stderr).toMatch(new RegExp(`^error: ${downDb}: `, 'm'));
      expect(await canLoginUp(up.uri)).toBe(false);
      expect(await allLogins()).toEqual([]);
      // Nothing was said about the healthy policy's view: both servers answer it.
      expect((await listAll(healthy)).code).toBe(0);
    });
  }
});
