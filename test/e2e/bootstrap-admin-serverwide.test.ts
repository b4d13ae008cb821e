/**
 * What acts server-wide, and what a terminal user runs, with the admin `jit admin bootstrap
 * --apply` makes (a non-superuser with only what the policy needs): `connect` with the real
 * client, `sessions`, `revoke --all` ending running queries (on PostgreSQL handing what a login
 * created to the policy's owner), and `jit reap` for logins whose reaper is gone. The shared
 * cases (mint, grants, revoke, expiry, extend, list --all) are the contract suite's, with the same
 * kind of admin. Exclusive scopes: `revoke --all` and `reap` act on the whole server.
 */
import { describe, expect, it } from 'vitest';
import { useMariadb, usePostgres } from '../helpers/servers.js';
import { bootstrapMariadbAdmin, bootstrapPgAdmin } from '../helpers/bootstrap-admin.js';
import { makeWorld, waitFor, type JitWorld } from '../helpers/jit-cli.js';
import { jitAccounts, mysqlCanLogin, mysqlSession } from '../helpers/mysql-cli.js';
import { canLogin, mintUri, openSession, sleep } from './support.js';

/** The error code a promise rejects with, or 'no error'. */
const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => 'no error',
    (e: { code?: string; errno?: number }) => String(e.code ?? e.errno ?? e),
  );

/** `jit sessions --json` shows `user` running `query` (within 10 s). */
const showsQuery = (w: JitWorld, user: string, query: string) =>
  waitFor(async () => {
    const r = await w.run(['sessions', '--json']);
    return r.code === 0 && (JSON.parse(r.stdout) as Array<{ user: string; query: string | null }>).some((s) => s.user === user && s.query === query);
  }, 10_000);

/** `jit reap` once the lease is past its expiry: it names the login it reaped. */
async function reapAfterExpiry(w: JitWorld, lease: { user: string; expires_at: string }): Promise<void> {
  await sleep(Date.parse(lease.expires_at) + 1_000 - Date.now());
  const reaped = await w.run(['reap']);
  expect(reaped.code, reaped.stderr).toBe(0);
  expect(reaped.stderr).toContain(`reaped ${lease.user} on testdb`);
}

for (const version of [15, 18] as const) {
  describe(`PostgreSQL ${version} with a bootstrap-made admin`, () => {
    const server = usePostgres(version, { exclusive: true });
    const policy = (admin: string) => `version: 1
databases:
  testdb:
    engine: postgres
    host: 127.0.0.1
    port: ${server.port}
    database: ${server.database}
    tls: disable
    owner: bs_owner
    admin:
      user: ${admin}
      password: env:JIT_TEST_ADMIN_PW
    roles:
      readonly:
        grants:
          - privileges: [SELECT]
            tables: [orders]
      builder:
        member_of: [bs_builder]
`;

    it('connect, sessions, revoke --all (queries ended, objects handed to the owner) and reap all work with it', async () => {
      const su = await server.admin();
      try {
        await su.query(
          'CREATE SCHEMA bs_scratch; CREATE ROLE bs_builder NOLOGIN; GRANT USAGE, CREATE ON SCHEMA bs_scratch TO bs_builder; CREATE ROLE bs_owner NOLOGIN',
        );
      } finally {
        await su.end();
      }
      // Registered before the admin, so it runs after the admin is dropped.
      server.track({
        cleanup: async () => {
          const c = await server.admin();
          try {
            await c.query('DROP SCHEMA bs_scratch CASCADE; DROP OWNED BY bs_owner, bs_builder; DROP ROLE bs_owner, bs_builder');
          } finally {
            await c.end();
          }
        },
      });
      const admin = await bootstrapPgAdmin(server, policy);
      const check = await server.admin();
      try {
        expect((await check.query('SELECT rolsuper FROM pg_roles WHERE rolname = $1', [admin.user])).rows).toEqual([{ rolsuper: false }]);
      } finally {
        await check.end();
      }
      const w: JitWorld = await makeWorld({ ...server, adminPassword: admin.password }, { policy: policy(admin.user) });

      // connect: the real psql, as the minted login.
      const con = await w.run(['connect', 'testdb', '--role', 'readonly', '--', '-Atc', 'SELECT count(*) > 0 FROM orders']);
      expect(con.code, con.stderr).toBe(0);
      expect(con.stdout.trim()).toBe('t');

      const ro = await mintUri(w, ['--role', 'readonly']);
      const bu = await mintUri(w, ['--role', 'builder']);
      const maker = await openSession(bu.uri);
      await maker.query('CREATE TABLE bs_scratch.made (id int)');
      const busy = await openSession(ro.uri);
      busy.on('error', () => {});
      const sleeping = codeOf(busy.query('SELECT pg_sleep(60)'));
      // sessions: the running query, as the server reports it.
      expect(await showsQuery(w, ro.user, 'SELECT pg_sleep(60)')).toBe(true);

      const all = await w.run(['revoke', '--all', '--yes']);
      expect(all.code, all.stderr).toBe(0);
      expect(await sleeping).toBe('57P01');
      expect(await canLogin(ro.uri)).toBe(false);
      expect(await canLogin(bu.uri)).toBe(false);
      const after = await server.admin();
      try {
        expect((await after.query(`SELECT tableowner FROM pg_tables WHERE schemaname = 'bs_scratch' AND tablename = 'made'`)).rows).toEqual([{ tableowner: 'bs_owner' }]);
        expect((await after.query('SELECT rolname FROM pg_roles WHERE rolname = ANY($1)', [[ro.user, bu.user]])).rows).toEqual([]);
      } finally {
        await after.end();
      }

      // reap: a login whose reaper is gone (none here), past its expiry, with a session open.
      const nr = await makeWorld({ ...server, adminPassword: admin.password }, { policy: policy(admin.user), env: { JIT_NO_REAPER: '1' } });
      const short = await mintUri(nr, ['--role', 'readonly', '--ttl', '5s']);
      const held = await openSession(short.uri);
      held.on('error', () => {});
      await reapAfterExpiry(nr, short);
      expect(await codeOf(held.query('SELECT 1'))).not.toBe('no error');
      expect(await canLogin(short.uri)).toBe(false);
      await maker.end().catch(() => {});
    });
  });
}

describe('MariaDB with a bootstrap-made admin', () => {
  const server = useMariadb({ exclusive: true });
  const policy = (admin: string) => `version: 1
databases:
  testdb:
    engine: mysql
    host: 127.0.0.1
    port: ${server.port}
    database: ${server.database}
    tls: disable
    admin:
      user: ${admin}
      password: env:JIT_TEST_ADMIN_PW
    roles:
      readonly:
        grants:
          - privileges: [SELECT]
            tables: [orders]
`;

  it('connect, sessions, revoke --all (queries ended) and reap all work with it', async () => {
    const admin = await bootstrapMariadbAdmin(server, policy);
    const w: JitWorld = await makeWorld({ ...server, adminPassword: admin.password }, { policy: policy(admin.user) });

    const con = await w.run(['connect', 'testdb', '--role', 'readonly', '--', '-N', '-B', '-e', 'SELECT count(*) > 0 FROM orders']);
    expect(con.code, con.stderr).toBe(0);
    expect(con.stdout.trim()).toBe('1');

    const a = await mintUri(w, ['--role', 'readonly']);
    const b = await mintUri(w, ['--role', 'readonly']);
    const busy = await mysqlSession(a.uri);
    const sleeping = codeOf(busy.query('SELECT SLEEP(60)'));
    expect(await showsQuery(w, a.user, 'SELECT SLEEP(60)')).toBe(true);

    const all = await w.run(['revoke', '--all', '--yes']);
    expect(all.code, all.stderr).toBe(0);
    expect(await sleeping).toBe('PROTOCOL_CONNECTION_LOST');
    expect(await mysqlCanLogin(a.uri)).toBe(false);
    expect(await mysqlCanLogin(b.uri)).toBe(false);
    expect(await jitAccounts(server)).toEqual([]);

    // reap: the event scheduler off (as by default on MariaDB) and no reaper: only reap acts.
    await server.configure({ event_scheduler: 'OFF' });
    const nr = await makeWorld({ ...server, adminPassword: admin.password }, { policy: policy(admin.user), env: { JIT_NO_REAPER: '1' } });
    const short = await mintUri(nr, ['--role', 'readonly', '--ttl', '5s']);
    const held = await mysqlSession(short.uri);
    await reapAfterExpiry(nr, short);
    expect(await codeOf(held.query('SELECT 1'))).not.toBe('no error');
    expect(await jitAccounts(server)).toEqual([]);
  });
});
