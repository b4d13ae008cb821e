/**
 * The Postgres engine against a real PostgreSQL 15 (test/helpers/servers.ts). Privileges are
 * proven by logging in as the minted login and trying, revocation by trying again afterwards.
 * What reaches the server's log: postgres-engine-log.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import type { AdminSession, LeaseMarker, MintRequest, ServerTarget } from '../../src/engines/engine.js';
import { JitError } from '../../src/core/errors.js';
import { generatePassword, randomLowerAlnum } from '../../src/core/random.js';
import { postgresEngine } from '../../src/engines/postgres/postgres-engine.js';
import { usePostgres } from '../helpers/servers.js';

const server = usePostgres(15);
let session: AdminSession;
let admin: pg.Client;
const clients: pg.Client[] = [];

function request(overrides: Partial<MintRequest> = {}): MintRequest {
  const login = overrides.login ?? `jit_test_${randomLowerAlnum(12)}`;
  const now = Date.now();
  const marker: LeaseMarker = {
    id: randomLowerAlnum(10),
    database: 'test-db',
    role: 'readonly',
    requester: 'tester',
    requester_host: 'ci',
    created_at: new Date(now).toISOString(),
    expires_at: new Date(now + 900_000).toISOString(),
    max_expires_at: new Date(now + 3_600_000).toISOString(),
  };
  return {
    login,
    password: generatePassword(),
    expiresAt: new Date(now + 900_000),
    grants: [{ privileges: ['SELECT'], tables: [{ schema: 'public', name: 'orders' }, { schema: 'public', name: 'customers' }] }],
    memberOf: [],
    connectionLimit: -1,
    marker,
    ...overrides,
  };
}

async function connectAs(user: string, password: string, database?: string): Promise<pg.Client> {
  const c = await server.connectAs(user, password, database);
  clients.push(c);
  return c;
}

async function connectAdmin(target: ServerTarget = server.target(), password = server.adminPassword): Promise<AdminSession> {
  return postgresEngine.connectAdmin(target, password);
}

const sqlstate = (p: Promise<unknown>) =>
  p.then(
    () => 'no error',
    (e: { code?: string }) => e.code ?? String(e),
  );

beforeAll(async () => {
  admin = await server.admin();
  // A non-UTC session zone for the engine's sessions: VALID UNTIL must not depend on it.
  await admin.query(`ALTER ROLE postgres IN DATABASE ${server.database} SET timezone TO 'Pacific/Auckland'`);
  session = await connectAdmin();
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.end().catch(() => {})));
  await session?.close();
  await admin?.end().catch(() => {});
});

describe('mint', () => {
  it('grants exactly the listed tables: reads work, other tables and writes are refused (42501)', async () => {
    const req = request();
    const { serverNow } = await session.mint(req);
    expect(Math.abs(serverNow.getTime() - Date.now())).toBeLessThan(5_000);
    const c = await connectAs(req.login, req.password);
    expect((await c.query('SELECT id FROM public.orders ORDER BY id')).rows).toEqual([{ id: 1 }, { id: 2 }]);
    expect((await c.query('SELECT count(*)::int AS n FROM public.customers')).rows[0].n).toBe(2);
    expect(await sqlstate(c.query('SELECT * FROM public.secrets'))).toBe('42501');
    expect(await sqlstate(c.query('SELECT * FROM reporting.daily'))).toBe('42501');
    expect(await sqlstate(c.query('INSERT INTO public.orders VALUES (3, 1, 1)'))).toBe('42501');
    expect(await sqlstate(c.query('UPDATE public.orders SET total = 0'))).toBe('42501');
    expect(await sqlstate(c.query('CREATE TABLE public.mine (id int)'))).toBe('42501');
  });

  it('a schema grant covers every table in the schema', async () => {
    const req = request({ grants: [{ privileges: ['SELECT'], schema: 'reporting' }] });
    await session.mint(req);
    const c = await connectAs(req.login, req.password);
    expect((await c.query('SELECT count(*)::int AS n FROM reporting.daily')).rows[0].n).toBe(1);
    expect((await c.query('SELECT count(*)::int AS n FROM reporting.weekly')).rows[0].n).toBe(0);
    expect(await sqlstate(c.query('SELECT * FROM public.orders'))).toBe('42501');
  });

  it('member_of gives what the group role has, nothing more', async () => {
    const req = request({ grants: [], memberOf: ['analytics_ro'] });
    await session.mint(req);
    const c = await connectAs(req.login, req.password);
    expect((await c.query('SELECT count(*)::int AS n FROM reporting.daily')).rows[0].n).toBe(1);
    expect(await sqlstate(c.query('SELECT * FROM reporting.weekly'))).toBe('42501');
  });

  it('sets VALID UNTIL to the exact instant whatever the session time zone, and the CONNECTION LIMIT', async () => {
    const expiresAt = new Date(Math.floor(Date.now() / 1000) * 1000 + 600_123);
    const req = request({ expiresAt, connectionLimit: 2 });
    await session.mint(req);
    const { rows } = await admin.query(
      `SELECT rolvaliduntil, rolconnlimit, rolcanlogin, rolinherit, rolsuper, rolcreaterole, rolcreatedb, rolbypassrls,
              left(rolpassword, 19) AS pw FROM pg_authid WHERE rolname = $1`,
      [req.login],
    );
    expect(rows[0]).toMatchObject({ rolconnlimit: 2, rolcanlogin: true, rolinherit: true, rolsuper: false, rolcreaterole: false });
    expect(rows[0]).toMatchObject({ rolcreatedb: false, rolbypassrls: false, pw: 'SCRAM-SHA-256$4096:' });
    expect((rows[0].rolvaliduntil as Date).getTime()).toBe(expiresAt.getTime());
  });

  it('refuses a table that does not exist, names it (exit 2), and leaves nothing behind', async () => {
    const req = request({ grants: [{ privileges: ['SELECT'], tables: [{ schema: 'public', name: 'nope' }] }] });
    const err = await session.mint(req).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JitError);
    expect((err as JitError).exitCode).toBe(2);
    expect((err as JitError).message).toMatch(new RegExp(`table that does not exist in ${server.database}: .*"public\\.nope"`));
    expect((await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [req.login])).rowCount).toBe(0);
    // The session recovered from the aborted transaction.
    await expect(session.mint(request())).resolves.toBeTruthy();
  });

  it('refuses a member_of role or schema that does not exist (exit 2)', async () => {
    const group = await session.mint(request({ memberOf: ['no_such_group'] })).catch((e: JitError) => e);
    expect(group).toMatchObject({ exitCode: 2, message: expect.stringMatching(/role that does not exist.*no_such_group/) });
    const schema = await session.mint(request({ grants: [{ privileges: ['SELECT'], schema: 'nope' }] })).catch((e: JitError) => e);
    expect(schema).toMatchObject({ exitCode: 2, message: expect.stringMatching(/schema that does not exist.*nope/) });
  });

  it('the marker role is NOLOGIN and grants nothing', async () => {
    const { rows } = await admin.query(
      `SELECT rolcanlogin, rolsuper, has_table_privilege(oid, 'public.orders', 'SELECT') AS reads,
              (SELECT count(*)::int FROM pg_auth_members WHERE member = r.oid) AS memberships
         FROM pg_roles r WHERE rolname = 'jit'`,
    );
    expect(rows).toEqual([{ rolcanlogin: false, rolsuper: false, reads: false, memberships: 0 }]);
  });

  it("refuses to adopt a role named jit that can log in (someone's real role)", async () => {
    await admin.query('ALTER ROLE jit LOGIN');
    try {
      const req = request();
      await expect(session.mint(req)).rejects.toThrow(/role jit exists and can log in/);
      expect(await session.checkPrivileges()).toEqual([expect.stringMatching(/role jit exists and can log in/)]);
      expect((await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [req.login])).rowCount).toBe(0);
    } finally {
      await admin.query('ALTER ROLE jit NOLOGIN');
    }
  });

  it('hostile login and table names work end to end', async () => {
    for (const login of ['jit_x"; DROP TABLE t; --', "jit_o'neil\\", 'jit_$jit$ a"b']) {
      const req = request({ login, grants: [{ privileges: ['SELECT'], tables: [{ schema: 'public', name: 'a"b' }] }] });
      req.marker.reason = `it's "urgent" \\ $jit$`;
      await session.mint(req);
      const c = await connectAs(login, req.password);
      expect((await c.query('SELECT id FROM public."a""b"')).rows).toEqual([{ id: 42 }]);
      const found = (await session.listLogins()).find((l) => l.login === login);
      expect(found?.marker).toEqual(req.marker);
      expect(await session.revoke({ login: login })).toEqual({ login, gone: true, terminated: 1, errors: [] });
    }
    expect((await admin.query(`SELECT count(*)::int AS n FROM pg_class WHERE relname = 't'`)).rows[0].n).toBe(0);
    expect((await admin.query('SELECT count(*)::int AS n FROM public."a""b"')).rows[0].n).toBe(1);
  });

  it('30 concurrent mints granting on one table all succeed, and so do their revokes (XX000 tuple concurrently updated)', async () => {
    const sessions = await Promise.all(Array.from({ length: 30 }, () => connectAdmin()));
    try {
      const reqs = sessions.map(() => request());
      const minted = await Promise.allSettled(sessions.map((s, i) => s.mint(reqs[i]!)));
      expect(minted.filter((r) => r.status === 'rejected')).toEqual([]);
      const revoked = await Promise.all(sessions.map((s, i) => s.revoke({ login: reqs[i]!.login })));
      expect(revoked.filter((r) => !r.gone || r.errors.length > 0)).toEqual([]);
    } finally {
      await Promise.all(sessions.map((s) => s.close()));
    }
  });
});

describe('revoke', () => {
  it('ends open sessions and makes new logins fail', async () => {
    const req = request();
    await session.mint(req);
    const open = await connectAs(req.login, req.password);
    await open.query('SELECT 1');
    const ended = new Promise<{ code?: string }>((resolve) => open.once('error', resolve));
    expect(await session.revoke({ login: req.login })).toEqual({ login: req.login, gone: true, terminated: 1, errors: [] });
    expect((await ended).code).toBe('57P01'); // terminating connection due to administrator command
    await expect(open.query('SELECT 1')).rejects.toThrow();
    expect(['28P01', '28000']).toContain(await sqlstate(server.connectAs(req.login, req.password)));
  });

  it('is idempotent: a second revoke finds the login gone, without errors', async () => {
    const req = request();
    await session.mint(req);
    await session.revoke({ login: req.login });
    expect(await session.revoke({ login: req.login })).toEqual({ login: req.login, gone: true, alreadyGone: true, terminated: 0, errors: [] });
  });

  it('two revocations of one login at once both succeed without errors (no 42704 half-way)', async () => {
    const req = request();
    await session.mint(req);
    const open = await connectAs(req.login, req.password);
    open.on('error', () => {});
    const other = await connectAdmin();
    try {
      const results = await Promise.all([session.revoke({ login: req.login }), other.revoke({ login: req.login })]);
      for (const r of results) expect(r).toMatchObject({ login: req.login, gone: true, errors: [] });
      expect(results[0].terminated + results[1].terminated).toBe(1);
    } finally {
      await other.close();
    }
  });

  it('drops what the login owned, in every database it owned something in', async () => {
    await admin.query('CREATE SCHEMA IF NOT EXISTS scratch');
    const other = `${server.database}_other`;
    await admin.query(`CREATE DATABASE ${other}`);
    const req = request();
    await session.mint(req);
    await admin.query(`GRANT USAGE, CREATE ON SCHEMA scratch TO "${req.login}"`);
    const otherAdmin = await server.admin(other);
    clients.push(otherAdmin);
    await otherAdmin.query(`GRANT CREATE ON SCHEMA public TO "${req.login}"`);
    const c = await connectAs(req.login, req.password);
    await c.query('CREATE TABLE scratch.made_by_login (id int)');
    const o = await connectAs(req.login, req.password, other);
    await o.query('CREATE TABLE public.made_in_other (id int)');

    expect(await session.revoke({ login: req.login })).toMatchObject({ gone: true, terminated: 2, errors: [] });
    expect((await admin.query(`SELECT to_regclass('scratch.made_by_login') AS t`)).rows[0].t).toBeNull();
    expect((await otherAdmin.query(`SELECT to_regclass('public.made_in_other') AS t`)).rows[0].t).toBeNull();
  });

  it('with an owner set, REASSIGN OWNED keeps the objects, owned by the owner', async () => {
    await admin.query('CREATE SCHEMA IF NOT EXISTS scratch');
    await admin.query('DO $$ BEGIN CREATE ROLE app_owner NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$');
    const owned = await connectAdmin(server.target({ owner: 'app_owner' }));
    try {
      const req = request();
      await owned.mint(req);
      await admin.query(`GRANT USAGE, CREATE ON SCHEMA scratch TO "${req.login}"`);
      const c = await connectAs(req.login, req.password);
      await c.query('CREATE TABLE scratch.kept (id int)');
      expect(await owned.revoke({ login: req.login })).toMatchObject({ gone: true, errors: [] });
      const { rows } = await admin.query(`SELECT tableowner FROM pg_tables WHERE schemaname = 'scratch' AND tablename = 'kept'`);
      expect(rows).toEqual([{ tableowner: 'app_owner' }]);
    } finally {
      await owned.close();
    }
  });

  it('never touches roles without the marker, even named jit_…', async () => {
    await admin.query(`CREATE ROLE jit_manual LOGIN PASSWORD 'manual-pw'`);
    await admin.query(`CREATE ROLE jitadmin LOGIN PASSWORD 'manual-pw'`);
    for (const name of ['jit_manual', 'jitadmin']) {
      const err = await session.revoke({ login: name }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(JitError);
      expect((err as JitError).message).toMatch(/refusing to touch role/);
      const { rows } = await admin.query('SELECT rolcanlogin FROM pg_roles WHERE rolname = $1', [name]);
      expect(rows).toEqual([{ rolcanlogin: true }]);
    }
    const err = await session.extend({ login: 'jit_manual', expiresAt: new Date(Date.now() + 60_000), marker: request().marker }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JitError);
  });
});

describe('listing', () => {
  it('listLogins finds minted logins through the marker and ignores jitadmin and jit_manual', async () => {
    await admin.query(`DO $$ BEGIN CREATE ROLE jit_manual LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$`);
    await admin.query(`DO $$ BEGIN CREATE ROLE jitadmin LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$`);
    const req = request();
    await session.mint(req);
    await connectAs(req.login, req.password);
    const logins = await session.listLogins();
    const names = logins.map((l) => l.login);
    expect(names).not.toContain('jit_manual');
    expect(names).not.toContain('jitadmin');
    expect(names).not.toContain('jit');
    const mine = logins.find((l) => l.login === req.login);
    expect(mine).toEqual({ login: req.login, marker: req.marker, validUntil: new Date(req.expiresAt.getTime()), sessions: 1 });
  });

  it('sessions() lists live sessions of jit logins only', async () => {
    const req = request();
    await session.mint(req);
    const c = await connectAs(req.login, req.password);
    await c.query(`SELECT 'hello from the login'`);
    const mine = (await session.sessions()).filter((s) => s.login === req.login);
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ clientAddr: '127.0.0.1', state: 'idle', query: "SELECT 'hello from the login'" });
    expect(mine[0]!.since).toBeInstanceOf(Date);
    expect((await session.sessions()).map((s) => s.login)).not.toContain('postgres');
  });

  it('extend moves VALID UNTIL and the marker', async () => {
    const req = request();
    await session.mint(req);
    const later = new Date(req.expiresAt.getTime() + 1_800_000);
    const marker = { ...req.marker, expires_at: later.toISOString() };
    await session.extend({ login: req.login, expiresAt: later, marker });
    const mine = (await session.listLogins()).find((l) => l.login === req.login);
    expect(mine).toMatchObject({ marker, validUntil: later });
    await expect(session.extend({ login: 'jit_gone_0000000000', expiresAt: later, marker })).rejects.toThrow(/no longer exists/);
  });

  it('serverTime() is the server clock', async () => {
    expect(Math.abs((await session.serverTime()).getTime() - Date.now())).toBeLessThan(5_000);
  });
});

describe('admin connection and privileges', () => {
  it('a superuser admin has no privilege problems; a plain role is told what it lacks', async () => {
    expect(await session.checkPrivileges()).toEqual([]);
    await admin.query(`CREATE ROLE plainadm LOGIN PASSWORD 'plain-pw'`);
    const plain = await connectAdmin(server.target({ adminUser: 'plainadm' }), 'plain-pw');
    try {
      const problems = await plain.checkPrivileges();
      expect(problems.join('\n')).toMatch(/CREATEROLE/);
      expect(problems.join('\n')).not.toMatch(/pg_signal_backend/); // not needed: the admin joins each login it mints
    } finally {
      await plain.close();
    }
  });

  it('a CREATEROLE admin with pg_signal_backend mints and revokes; what it cannot grant fails the mint', async () => {
    await admin.query(`CREATE ROLE crole_adm LOGIN CREATEROLE PASSWORD 'crole-pw'`);
    await admin.query('GRANT pg_signal_backend TO crole_adm');
    await admin.query('GRANT SELECT ON public.orders TO crole_adm WITH GRANT OPTION');
    await admin.query('GRANT SELECT ON public.customers TO crole_adm');
    const limited = await connectAdmin(server.target({ adminUser: 'crole_adm' }), 'crole-pw');
    try {
      expect(await limited.checkPrivileges()).toEqual([]);
      const req = request({ grants: [{ privileges: ['SELECT'], tables: [{ schema: 'public', name: 'orders' }] }] });
      await limited.mint(req);
      const c = await connectAs(req.login, req.password);
      expect((await c.query('SELECT count(*)::int AS n FROM public.orders')).rows[0].n).toBe(2);
      expect(await limited.revoke({ login: req.login })).toEqual({ login: req.login, gone: true, terminated: 1, errors: [] });

      // Holding SELECT without GRANT OPTION, GRANT only warns (01007); with nothing at all it fails (42501).
      const warned = request({ grants: [{ privileges: ['SELECT'], tables: [{ schema: 'public', name: 'customers' }] }] });
      await expect(limited.mint(warned)).rejects.toThrow(/could not grant everything the role asks for: no privileges were granted for "customers"/);
      const denied = request({ grants: [{ privileges: ['SELECT'], tables: [{ schema: 'public', name: 'secrets' }] }] });
      await expect(limited.mint(denied)).rejects.toThrow(/crole_adm lacks a privilege .*permission denied for table secrets/);
      const left = await admin.query('SELECT 1 FROM pg_roles WHERE rolname = ANY($1)', [[warned.login, denied.login]]);
      expect(left.rowCount).toBe(0);
    } finally {
      await limited.close();
    }
  });

  it('a wrong admin password is a one-line JitError with the hint', async () => {
    const err = await connectAdmin(server.target(), 'wrong-password').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JitError);
    expect((err as JitError).message).toBe(`admin login to 127.0.0.1:${server.port} as postgres failed: password authentication failed`);
    expect((err as JitError).hint).toMatch(/jit admin set/);
  });

  it('an unreachable server says so', async () => {
    const err = await connectAdmin(server.target({ port: 1 })).catch((e: unknown) => e);
    expect((err as JitError).message).toBe('cannot reach PostgreSQL at 127.0.0.1:1 (ECONNREFUSED)');
  });
});
