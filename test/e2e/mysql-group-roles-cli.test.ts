/**
 * MariaDB group roles through the built binary: server-wide commands never take a group for a
 * login (exclusive server: they act on every login there), and 50 `jit uri` processes racing
 * on a role whose group does not exist yet (shared server, this scope's own requester).
 */
import { afterAll, describe, expect, it } from 'vitest';
import mysql from 'mysql2/promise';
import { useMariadb } from '../helpers/servers.js';
import { makeWorld, waitFor, type JitWorld } from '../helpers/jit-cli.js';
import { mysqlPolicy, mysqlSession } from '../helpers/mysql-cli.js';
import type { MariadbScope } from '../helpers/mariadb-scope.js';
import type { UriJson } from './support.js';

type Row = Record<string, unknown>;

async function rootRows(server: MariadbScope, sql: string, params: unknown[] = []): Promise<Row[]> {
  const c = await server.admin();
  try {
    return (await c.query(sql, params))[0] as Row[];
  } finally {
    await c.end();
  }
}

/** The group roles on the server (`jitgroup_…`, is_role). */
const groups = (server: MariadbScope) => rootRows(server, "SELECT User AS u FROM mysql.user WHERE is_role = 'Y' AND User LIKE 'jitgroup\\_%' ORDER BY User").then((r) => r.map((x) => String(x.u)));

async function mint(w: JitWorld, role: string, ttl = '10m'): Promise<UriJson> {
  const res = await w.run(['uri', 'testdb', '--role', role, '--ttl', ttl, '--json'], { timeoutMs: 120_000 });
  expect(res.code, res.stderr).toBe(0);
  return JSON.parse(res.stdout) as UriJson;
}

describe('server-wide commands and group roles (exclusive server)', () => {
  const server = useMariadb({ exclusive: true });
  const worlds: JitWorld[] = [];
  const opened: mysql.Connection[] = [];
  afterAll(async () => {
    for (const c of opened) await c.end().catch(() => c.destroy());
    for (const w of worlds) await w.cleanup().catch(() => {});
  });

  it('list --all, sessions, revoke --all and reap act on the logins only; the group and its jit.groups row stay', async () => {
    const w = await makeWorld(server, { policy: mysqlPolicy(server) });
    worlds.push(w);
    const a = await mint(w, 'readonly');
    const b = await mint(w, 'readonly');
    const [g] = await groups(server);
    expect(g).toMatch(/^jitgroup_readonly_[0-9a-f]{10}$/);
    const session = await mysqlSession(a.uri);
    opened.push(session);

    const list = await w.run(['list', '--all', '--json']);
    expect(list.code, list.stderr).toBe(0);
    expect((JSON.parse(list.stdout) as Array<{ user: string }>).map((r) => r.user).sort()).toEqual([a.user, b.user].sort());
    const sessions = await w.run(['sessions', 'testdb', '--json']);
    expect(sessions.code, sessions.stderr).toBe(0);
    expect(sessions.stdout).toContain(a.user);
    expect(sessions.stdout).not.toContain('jitgroup_');

    const rev = await w.run(['revoke', '--all', '--yes']);
    expect(rev.code, rev.stdout + rev.stderr).toBe(0);
    expect(rev.stdout + rev.stderr).not.toContain('jitgroup_');
    expect(await rootRows(server, 'SELECT User FROM mysql.user WHERE User IN (?, ?)', [a.user, b.user])).toEqual([]);
    expect(await groups(server)).toEqual([g]);

    // An expired login of the same group: reap drops it and only it.
    await server.configure({ event_scheduler: 'OFF' });
    const short = await mint(w, 'short', '5s');
    const [gs] = (await groups(server)).filter((x) => x.startsWith('jitgroup_short_'));
    await new Promise((r) => setTimeout(r, 6_000));
    const reap = await w.run(['reap']);
    expect(reap.code, reap.stdout + reap.stderr).toBe(0);
    expect(reap.stdout + reap.stderr).not.toContain('jitgroup_');
    expect(await waitFor(async () => (await rootRows(server, 'SELECT 1 FROM mysql.user WHERE User = ?', [short.user])).length === 0, 10_000)).toBe(true);
    expect((await groups(server)).sort()).toEqual([g, gs].sort());
    expect((await rootRows(server, 'SELECT name FROM jit.groups ORDER BY name')).map((r) => String(r.name))).toEqual([g, gs].sort());
    // The groups still serve the next login.
    const next = await mint(w, 'readonly');
    const c = await mysqlSession(next.uri);
    opened.push(c);
    expect(((await c.query('SELECT COUNT(*) AS n FROM orders'))[0] as Row[])[0]!.n).toBe(2);
  });
});

describe('50 concurrent first mints of one role (shared server)', () => {
  const server = useMariadb();
  let w: JitWorld;
  afterAll(async () => {
    // This world's leases only, ten at a time: revoke --all would reach the logins of files running beside this one.
    const leases = w ? (JSON.parse((await w.run(['list', '--json'])).stdout || '[]') as Array<{ id: string }>) : [];
    for (let i = 0; i < leases.length; i += 10) await Promise.all(leases.slice(i, i + 10).map((l) => w.run(['revoke', l.id])));
    await w?.cleanup().catch(() => {});
  });

  it('give 50 distinct working logins, all members of one group built once; no login holds a table grant', async () => {
    w = await makeWorld(server, { policy: mysqlPolicy(server) });
    const results = await Promise.all(Array.from({ length: 50 }, () => w.run(['uri', 'testdb', '--role', 'writer', '--ttl', '10m', '--json'], { timeoutMs: 180_000 })));
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    const minted = results.map((r) => JSON.parse(r.stdout) as UriJson);
    expect(new Set(minted.map((m) => m.user)).size).toBe(50);
    const members = await rootRows(server, `SELECT DISTINCT Role AS r FROM mysql.roles_mapping WHERE User IN (${minted.map(() => '?').join(', ')})`, minted.map((m) => m.user));
    expect(members).toHaveLength(1);
    const g = String(members[0]!.r);
    expect(g).toMatch(/^jitgroup_writer_[0-9a-f]{10}$/);
    expect((await rootRows(server, 'SELECT Table_priv AS p FROM mysql.tables_priv WHERE User = ?', [g])).map((r) => String(r.p))).toEqual(['Select,Insert,Update']);
    expect(await rootRows(server, `SELECT 1 FROM mysql.tables_priv WHERE User IN (${minted.map(() => '?').join(', ')})`, minted.map((m) => m.user))).toEqual([]);
    for (const m of minted) {
      const c = await mysqlSession(m.uri);
      try {
        expect(((await c.query('SELECT COUNT(*) AS n FROM orders'))[0] as Row[])[0]!.n).toBe(2);
      } finally {
        await c.end();
      }
    }
  }, 300_000);
});
