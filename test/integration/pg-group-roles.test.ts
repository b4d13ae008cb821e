/**
 * Policy roles as NOLOGIN group roles (postgres-group.ts), on PostgreSQL 16+ (here 18; 15 keeps
 * per-login grants, see the end): a mint
 * builds the role's group once and later mints only join it; table ACLs hold the group, never a
 * login; a policy change rebuilds the group in place, so live logins follow it; `--only` keeps
 * per-login grants; warm mints take no lock. Privileges are proven by logging in and trying.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import type { AdminSession, LeaseMarker, MintRequest } from '../../src/engines/engine.js';
import type { Grant } from '../../src/policy/types.js';
import { JitError } from '../../src/core/errors.js';
import { generatePassword, randomLowerAlnum } from '../../src/core/random.js';
import { postgresEngine } from '../../src/engines/postgres/postgres-engine.js';
import { groupComment, groupName } from '../../src/engines/postgres/postgres-group.js';
import { escapeLiteral as pgEscape } from '../../src/engines/postgres/postgres-quote.js';
import { MINT_LOCK_KEY } from '../../src/engines/postgres/postgres-sql.js';
import { usePostgres } from '../helpers/servers.js';

const ORDERS: Grant[] = [{ privileges: ['SELECT'], tables: [{ schema: 'public', name: 'orders' }] }];
const BOTH: Grant[] = [{ privileges: ['SELECT'], tables: [{ schema: 'public', name: 'orders' }, { schema: 'public', name: 'customers' }] }];

describe.each([18] as const)('PostgreSQL %i: group roles', (version) => {
  const server = usePostgres(version);
  let session: AdminSession;
  let admin: pg.Client;
  const clients: pg.Client[] = [];
  const minted: string[] = [];

  const group = (role: string) => groupName({ policyDatabase: 'grp-db', database: server.database, role, admin: 'postgres' });

  function request(role: string, grants: Grant[], overrides: Partial<MintRequest> = {}): MintRequest {
    const login = `jit_${server.requester}_${randomLowerAlnum(12)}`;
    minted.push(login);
    const now = Date.now();
    const marker: LeaseMarker = {
      id: randomLowerAlnum(10),
      database: 'grp-db',
      role,
      requester: server.requester,
      requester_host: 'ci',
      created_at: new Date(now).toISOString(),
      expires_at: new Date(now + 900_000).toISOString(),
      max_expires_at: new Date(now + 3_600_000).toISOString(),
    };
    return { login, password: generatePassword(), expiresAt: new Date(now + 900_000), grants, memberOf: [], connectionLimit: -1, marker, ...overrides };
  }

  async function connectAs(req: MintRequest): Promise<pg.Client> {
    const c = await server.connectAs(req.login, req.password);
    clients.push(c);
    return c;
  }

  const sqlstate = (p: Promise<unknown>) =>
    p.then(
      () => 'no error',
      (e: { code?: string }) => e.code ?? String(e),
    );

  /** The roles named in a table's ACL. */
  async function aclOf(table: string): Promise<string[]> {
    const { rows } = await admin.query(
      `SELECT DISTINCT a.grantee::regrole::text AS who FROM pg_class c, aclexplode(c.relacl) a WHERE c.oid = $1::regclass AND a.grantee <> c.relowner ORDER BY 1`,
      [table],
    );
    return rows.map((r) => String(r.who).replace(/^"|"$/g, ''));
  }

  const oidOf = async (role: string) => (await admin.query('SELECT oid::int8 AS oid FROM pg_roles WHERE rolname = $1', [role])).rows[0]?.oid ?? null;

  beforeAll(async () => {
    admin = await server.admin();
    session = await postgresEngine.connectAdmin(server.target(), server.adminPassword);
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.end().catch(() => {})));
    if (session) await session.revokeMany(minted.map((login) => ({ login }))).catch(() => {});
    await session?.close();
    await admin?.end().catch(() => {});
  });

  it("builds the role's group once; later mints only join it: the table's ACL holds the group, never a login", async () => {
    const first = request('reader', ORDERS);
    await session.mint(first);
    const g = group('reader');
    const built = await oidOf(g);
    expect(built).not.toBeNull();
    expect(g).toMatch(/^jitgroup_reader_[0-9a-f]{10}$/);
    const second = request('reader', ORDERS);
    await session.mint(second);
    expect(await oidOf(g)).toBe(built);
    expect(await aclOf('public.orders')).toEqual([g]);
    for (const req of [first, second]) {
      const c = await connectAs(req);
      expect((await c.query('SELECT count(*)::int AS n FROM public.orders')).rows[0].n).toBe(2);
      expect(await sqlstate(c.query('SELECT 1 FROM public.customers'))).toBe('42501');
    }
    const role = (await admin.query(`SELECT rolcanlogin, rolinherit, shobj_description(oid, 'pg_authid') AS comment FROM pg_roles WHERE rolname = $1`, [g])).rows[0];
    expect(role.rolcanlogin).toBe(false);
    expect(role.rolinherit).toBe(true);
    expect(JSON.parse(role.comment)).toEqual({ jit_group: { database: 'grp-db', role: 'reader', digest: expect.stringMatching(/^[0-9a-f]{32}$/) } });
    // Never a jit login: not listed, and revocation leaves it alone.
    expect((await session.listLogins()).map((l) => l.login)).not.toContain(g);
    expect(await session.revoke({ login: first.login })).toMatchObject({ gone: true, errors: [] });
    expect(await oidOf(g)).toBe(built);
    expect(await aclOf('public.orders')).toEqual([g]);
    expect((await (await connectAs(second)).query('SELECT count(*)::int AS n FROM public.orders')).rows[0].n).toBe(2);
  });

  it("a policy change rebuilds the group in place: live logins gain and lose with it", async () => {
    const live = request('changing', ORDERS);
    await session.mint(live);
    const g = group('changing');
    const built = await oidOf(g);
    const c = await connectAs(live);
    expect(await sqlstate(c.query('SELECT 1 FROM public.customers'))).toBe('42501');

    await session.mint(request('changing', BOTH));
    expect(await oidOf(g)).toBe(built);
    expect((await c.query('SELECT count(*)::int AS n FROM public.customers')).rows[0].n).toBe(2);

    await session.mint(request('changing', [{ privileges: ['SELECT'], tables: [{ schema: 'public', name: 'customers' }] }]));
    expect(await oidOf(g)).toBe(built);
    expect(await sqlstate(c.query('SELECT 1 FROM public.orders'))).toBe('42501');
    expect((await c.query('SELECT count(*)::int AS n FROM public.customers')).rows[0].n).toBe(2);
    expect(await aclOf('public.orders')).not.toContain(g);
  });

  it('a member_of change moves the membership; a table added to a schema grant reaches live logins at the next mint', async () => {
    await admin.query('CREATE SCHEMA IF NOT EXISTS grp_s; CREATE TABLE grp_s.t1 (id int); INSERT INTO grp_s.t1 VALUES (1)');
    await admin.query(`DO $$ BEGIN CREATE ROLE grp_ro_${version} NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$`);
    await admin.query(`GRANT SELECT ON public.secrets TO grp_ro_${version}`);
    const schema: Grant[] = [{ privileges: ['SELECT'], schema: 'grp_s' }];
    const live = request('schema', schema, { memberOf: [`grp_ro_${version}`] });
    await session.mint(live);
    const c = await connectAs(live);
    expect((await c.query('SELECT count(*)::int AS n FROM grp_s.t1')).rows[0].n).toBe(1);
    expect((await c.query('SELECT count(*)::int AS n FROM public.secrets')).rows[0].n).toBe(1);

    await admin.query('CREATE TABLE grp_s.t2 (id int)');
    expect(await sqlstate(c.query('SELECT 1 FROM grp_s.t2'))).toBe('42501');
    await session.mint(request('schema', schema, { memberOf: [] }));
    expect(await sqlstate(c.query('SELECT 1 FROM grp_s.t2'))).toBe('no error');
    expect(await sqlstate(c.query('SELECT 1 FROM public.secrets'))).toBe('42501');
  });

  it('--only (narrowed) grants to the login itself, as before, and leaves the group alone', async () => {
    await session.mint(request('narrow', BOTH));
    const g = group('narrow');
    const narrowed = request('narrow', ORDERS, { narrowed: true });
    await session.mint(narrowed);
    expect(await aclOf('public.orders')).toContain(narrowed.login);
    expect(await aclOf('public.customers')).not.toContain(narrowed.login);
    const member = await admin.query('SELECT 1 FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles l ON l.oid = m.member WHERE g.rolname = $1 AND l.rolname = $2', [g, narrowed.login]);
    expect(member.rowCount).toBe(0);
    const c = await connectAs(narrowed);
    expect(await sqlstate(c.query('SELECT 1 FROM public.customers'))).toBe('42501');
    expect(await session.revoke({ login: narrowed.login })).toMatchObject({ gone: true, errors: [] });
    expect(await aclOf('public.orders')).not.toContain(narrowed.login);
  });

  it('two mints racing to build a new group both succeed, with one group', async () => {
    const other = await postgresEngine.connectAdmin(server.target(), server.adminPassword);
    try {
      const [a, b] = [request('race', BOTH), request('race', BOTH)];
      await Promise.all([session.mint(a), other.mint(b)]);
      for (const req of [a, b]) expect((await (await connectAs(req)).query('SELECT count(*)::int AS n FROM public.customers')).rows[0].n).toBe(2);
      expect((await admin.query('SELECT count(*)::int AS n FROM pg_roles WHERE starts_with(rolname, $1)', [group('race')])).rows[0].n).toBe(1);
    } finally {
      await other.close();
    }
  });

  it('warm mints take no lock: 40 sessions mint 200 working logins while the mint lock is held elsewhere', async () => {
    await session.mint(request('warm', BOTH));
    const holder = await server.admin();
    const sessions: AdminSession[] = [];
    const reqs: MintRequest[] = [];
    try {
      await holder.query(`SELECT pg_advisory_lock(${MINT_LOCK_KEY})`);
      for (let i = 0; i < 40; i++) sessions.push(await postgresEngine.connectAdmin(server.target(), server.adminPassword));
      // A mint that waited for the lock would fail after its 30 s statement_timeout.
      await Promise.all(
        sessions.map(async (s) => {
          for (let i = 0; i < 5; i++) {
            const req = request('warm', BOTH);
            reqs.push(req);
            await s.mint(req);
          }
        }),
      );
    } finally {
      await holder.end().catch(() => {});
      await Promise.all(sessions.map((s) => s.close()));
    }
    expect(new Set(reqs.map((r) => r.login)).size).toBe(200);
    for (let i = 0; i < reqs.length; i += 20) {
      await Promise.all(
        reqs.slice(i, i + 20).map(async (req) => {
          const c = await server.connectAs(req.login, req.password);
          try {
            expect((await c.query('SELECT count(*)::int AS n FROM public.orders')).rows[0].n).toBe(2);
          } finally {
            await c.end();
          }
        }),
      );
    }
    expect(await aclOf('public.orders')).not.toContain(reqs[0]!.login);
    const revoked = await session.revokeMany(reqs.map((r) => ({ login: r.login })));
    expect(revoked.filter((r) => !r.gone || r.errors.length > 0)).toEqual([]);
  }, 180_000);

  it('a build that granted less than asked fails that mint; once the admin may grant it, the next mint completes the group', async () => {
    const adm = `grp_adm_${server.requester}`;
    await admin.query(`CREATE ROLE ${adm} LOGIN CREATEROLE PASSWORD 'grp-adm-pw'`);
    await admin.query(`GRANT SELECT ON public.orders TO ${adm} WITH GRANT OPTION`);
    await admin.query(`GRANT SELECT ON public.customers TO ${adm}`);
    if (version >= 16) await admin.query(`GRANT jit TO ${adm} WITH ADMIN OPTION, INHERIT FALSE, SET FALSE`);
    const limited = await postgresEngine.connectAdmin(server.target({ adminUser: adm }), 'grp-adm-pw');
    try {
      const first = request('partial', BOTH);
      await expect(limited.mint(first)).rejects.toThrow(/could not grant everything the role asks for: no privileges were granted for "customers"/);
      expect((await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [first.login])).rowCount).toBe(0);
      await admin.query(`GRANT SELECT ON public.customers TO ${adm} WITH GRANT OPTION`);
      const next = request('partial', BOTH);
      await limited.mint(next);
      const c = await connectAs(next);
      expect((await c.query('SELECT count(*)::int AS n FROM public.customers')).rows[0].n).toBe(2);
      await limited.revoke({ login: next.login });
    } finally {
      await limited.close();
    }
  });

  it('refuses a role of the group name that jit did not create, and touches nothing of it', async () => {
    const g = group('taken');
    await admin.query(`CREATE ROLE ${g} LOGIN`);
    try {
      const req = request('taken', ORDERS);
      const err = await session.mint(req).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(JitError);
      expect((err as JitError).message).toBe(`on 127.0.0.1:${server.port}, role ${g} exists and was not created by jit as a group role; no login was minted`);
      expect((await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [req.login])).rowCount).toBe(0);
      expect(await aclOf('public.orders')).not.toContain(g);
    } finally {
      await admin.query(`DROP ROLE ${g}`);
    }
  });

  it("refuses a group planted under the name by another role, with jit's own comment: nothing is granted to it", async () => {
    const g = group('planted');
    const planter = `planter_${randomLowerAlnum(6)}`;
    const spec = { policyDatabase: 'grp-db', database: server.database, role: 'planted', admin: 'postgres', grants: ORDERS, memberOf: [] };
    // A CREATEROLE role creates the group first (and so holds ADMIN OPTION on it), with the comment a build writes.
    await admin.query(`CREATE ROLE ${planter} CREATEROLE LOGIN PASSWORD 'planter-pw'`);
    const p = await server.connectAs(planter, 'planter-pw');
    try {
      await p.query(`CREATE ROLE ${g} NOLOGIN`);
      await p.query(`COMMENT ON ROLE ${g} IS ${pgEscape(groupComment(spec))}`);
    } finally {
      await p.end();
    }
    try {
      const req = request('planted', ORDERS);
      const err = await session.mint(req).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(JitError);
      expect((err as JitError).message).toBe(`on 127.0.0.1:${server.port}, role ${g} exists and was not created by jit as a group role; no login was minted`);
      expect(await aclOf('public.orders')).not.toContain(g);
    } finally {
      await admin.query(`DROP ROLE IF EXISTS ${g}`);
      await admin.query(`DROP ROLE IF EXISTS ${planter}`);
    }
  });

  it('a group holding a grant another role made is not rebuilt: the mint fails naming who, and what to do', async () => {
    const adm = `grp_adm_${randomLowerAlnum(6)}`;
    await admin.query(`CREATE ROLE ${adm} LOGIN CREATEROLE PASSWORD 'grp-adm-pw'; GRANT SELECT ON public.orders, public.customers TO ${adm} WITH GRANT OPTION`);
    await admin.query(`DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'jit') THEN GRANT jit TO ${adm} WITH ADMIN OPTION, INHERIT FALSE, SET FALSE; END IF; END $$`);
    const limited = await postgresEngine.connectAdmin(server.target({ adminUser: adm }), 'grp-adm-pw');
    const g = groupName({ policyDatabase: 'grp-db', database: server.database, role: 'foreign', admin: adm });
    const first = request('foreign', ORDERS);
    try {
      await limited.mint(first);
      await admin.query(`GRANT SELECT ON public.secrets TO ${g}`);
      const err = await limited.mint(request('foreign', BOTH)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(JitError);
      expect((err as JitError).message).toBe(
        `on 127.0.0.1:${server.port}, role ${g} must be rebuilt to the policy, but holds grants made by postgres, which ${adm} cannot revoke; no login was minted`,
      );
    } finally {
      await limited.revoke({ login: first.login }).catch(() => {});
      await limited.close();
      await admin.query(`DROP OWNED BY ${g}; DROP ROLE IF EXISTS ${g}`).catch(() => {});
      await admin.query(`DROP OWNED BY ${adm}; DROP ROLE IF EXISTS ${adm}`).catch(() => {});
    }
  });

  if (version >= 16) {
    it('16+: the login inherits the group but cannot SET ROLE to it', async () => {
      const req = request('reader', ORDERS);
      await session.mint(req);
      const m = await admin.query(
        'SELECT m.inherit_option, m.set_option FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles l ON l.oid = m.member WHERE g.rolname = $1 AND l.rolname = $2',
        [group('reader'), req.login],
      );
      expect(m.rows).toEqual([{ inherit_option: true, set_option: false }]);
      const c = await connectAs(req);
      expect(await sqlstate(c.query(`SET ROLE ${group('reader')}`))).toBe('42501');
    });
  }
});

describe('PostgreSQL 15: no group roles', () => {
  const server = usePostgres(15);
  it('a plain mint grants to the login itself: 15 cannot make the membership SET FALSE, so a group would let the login SET ROLE to it', async () => {
    const session = await postgresEngine.connectAdmin(server.target(), server.adminPassword);
    const admin = await server.admin();
    const login = `jit_${server.requester}_${randomLowerAlnum(12)}`;
    const now = Date.now();
    const marker: LeaseMarker = {
      id: randomLowerAlnum(10), database: 'grp-db', role: 'reader', requester: server.requester, requester_host: 'ci',
      created_at: new Date(now).toISOString(), expires_at: new Date(now + 900_000).toISOString(), max_expires_at: new Date(now + 3_600_000).toISOString(),
    };
    try {
      await session.serverTime();
      await session.mint({ login, password: generatePassword(), expiresAt: new Date(now + 900_000), grants: ORDERS, memberOf: [], connectionLimit: -1, marker });
      const acl = await admin.query(`SELECT a.grantee::regrole::text AS who FROM pg_class c, aclexplode(c.relacl) a WHERE c.oid = 'public.orders'::regclass`);
      expect(acl.rows.map((r) => String(r.who))).toContain(login);
      const g = groupName({ policyDatabase: 'grp-db', database: server.database, role: 'reader', admin: 'postgres' });
      expect((await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [g])).rowCount).toBe(0);
    } finally {
      await session.revoke({ login }).catch(() => {});
      await session.close();
      await admin.end();
    }
  });
});
