/**
 * Group roles on MariaDB (src/engines/mysql/mysql-group.ts) against the run's MariaDB 10.11:
 * a policy role's grants held once by a role `jitgroup_<role>_<hash>`, each login only granted
 * it as its default role. Proven by logging in as the logins and by reading the grant tables
 * as root; the planted role by a real second account holding CREATE USER.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type mysql from 'mysql2/promise';
import type { AdminSession, LeaseMarker, MintRequest } from '../../src/engines/engine.js';
import { generatePassword, randomLowerAlnum } from '../../src/core/random.js';
import { mysqlEngine } from '../../src/engines/mysql/mysql-engine.js';
import { groupName } from '../../src/engines/mysql/mysql-group.js';
import { useMariadb } from '../helpers/servers.js';

type Row = Record<string, unknown>;

describe('group roles on MariaDB (shared server)', () => {
  const server = useMariadb();
  const app = () => server.database;
  let session: AdminSession;
  let root: mysql.Connection;
  const clients: mysql.Connection[] = [];
  const cleanupSql: string[] = [];

  /** A request for policy role `role` of policy database `pdb` (each test its own, so its own group). */
  function request(role: string, overrides: Partial<MintRequest> = {}, pdb = 'group-db'): MintRequest {
    const login = `jit_${server.requester}_${randomLowerAlnum(12)}`;
    const now = Date.now();
    const expiresAt = overrides.expiresAt ?? new Date(now + 900_000);
    const marker: LeaseMarker = {
      id: randomLowerAlnum(10), database: pdb, role, requester: server.requester, requester_host: 'ci',
      created_at: new Date(now).toISOString(), expires_at: expiresAt.toISOString(), max_expires_at: new Date(now + 3_600_000).toISOString(),
    };
    return {
      login, password: generatePassword(), expiresAt, memberOf: [], connectionLimit: -1, marker,
      grants: [{ privileges: ['SELECT'], tables: [{ schema: app(), name: 'orders' }] }],
      ...overrides,
    };
  }
  const group = (role: string, pdb = 'group-db') => groupName({ policyDatabase: pdb, database: app(), role, admin: `${server.adminUser}@%` });
  const rows = async (sql: string, params: unknown[] = []) => (await root.query(sql, params))[0] as Row[];
  const connectAs = async (user: string, password: string, db: string | null = app()) => {
    const c = await server.connectAs(user, password, db);
    clients.push(c);
    return c;
  };
  const errno = (p: Promise<unknown>) => p.then(() => 'no error', (e: { errno?: number }) => e.errno ?? String(e));
  const tablePrivs = async (user: string) =>
    (await rows('SELECT Db AS db, Table_name AS t, Table_priv AS p FROM mysql.tables_priv WHERE User = ? ORDER BY Db, Table_name', [user])).map((r) => `${r.db}.${r.t}:${r.p}`);
  const rolesOf = async (user: string) => (await rows('SELECT Role AS r FROM mysql.roles_mapping WHERE User = ? ORDER BY Role', [user])).map((r) => String(r.r));
  const groupRow = async (name: string) => (await rows('SELECT digest, built_at FROM jit.groups WHERE name = ?', [name]))[0];

  beforeAll(async () => {
    root = await server.admin();
    session = await mysqlEngine.connectAdmin(server.target(), server.adminPassword);
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.end().catch(() => c.destroy())));
    await session?.close();
    for (const sql of cleanupSql) await root.query(sql).catch(() => {});
    await root?.end().catch(() => {});
  });

  it('the first mint builds the group; the second only grants it: tables_priv has the group\'s row and none for either login', async () => {
    const g = group('built-once');
    const a = request('built-once');
    await session.mint(a);
    const built = await groupRow(g);
    expect(built).toBeDefined();
    expect(String(built!.digest)).toMatch(/^[0-9a-f]{32}$/);
    const b = request('built-once');
    await session.mint(b);
    expect(await tablePrivs(g)).toEqual([`${app()}.orders:Select`]);
    expect(await tablePrivs(a.login)).toEqual([]);
    expect(await tablePrivs(b.login)).toEqual([]);
    // Not rebuilt by the second mint.
    expect(String((await groupRow(g))!.built_at)).toBe(String(built!.built_at));
    expect(await rolesOf(b.login)).toEqual([g]);
    const [u] = await rows('SELECT default_role AS d FROM mysql.user WHERE User = ?', [b.login]);
    expect(u!.d).toBe(g);
    // The group is active at login: reads work, what the role lacks is refused.
    const c = await connectAs(b.login, b.password);
    expect(((await c.query('SELECT CURRENT_ROLE() AS r'))[0] as Row[])[0]!.r).toBe(g);
    expect(((await c.query(`SELECT COUNT(*) AS n FROM ${app()}.orders`))[0] as Row[])[0]!.n).toBe(2);
    expect(await errno(c.query(`SELECT * FROM ${app()}.secrets`))).toBe(1142);
    expect(await errno(c.query(`INSERT INTO ${app()}.orders VALUES (9, 1, 1.00)`))).toBe(1142);
    // Revoke drops the login and its role grant; the group stays for the next login.
    await session.revoke({ login: a.login });
    await session.revoke({ login: b.login });
    expect(await rolesOf(b.login)).toEqual([]);
    expect(await rows('SELECT 1 FROM mysql.roles_mapping WHERE Role = ? AND User IN (?, ?)', [g, a.login, b.login])).toEqual([]);
    expect(await rows("SELECT User FROM mysql.user WHERE User = ? AND is_role = 'Y'", [g])).toHaveLength(1);
    expect(await errno(connectAs(b.login, b.password))).toBe(1045);
  });

  it('a policy change rebuilds the group in place: a table added reaches the next login and the live one, a table removed leaves both', async () => {
    const g = group('changing');
    const first = request('changing');
    await session.mint(first);
    const live = await connectAs(first.login, first.password);
    expect(await errno(live.query(`SELECT * FROM ${app()}.customers`))).toBe(1142);
    const both = request('changing', { grants: [{ privileges: ['SELECT'], tables: [{ schema: app(), name: 'orders' }, { schema: app(), name: 'customers' }] }] });
    await session.mint(both);
    expect(await tablePrivs(g)).toEqual([`${app()}.customers:Select`, `${app()}.orders:Select`]);
    const next = await connectAs(both.login, both.password);
    expect(await errno(next.query(`SELECT * FROM ${app()}.customers`))).toBe('no error');
    // The live login is a member of the same group: it follows the policy too.
    expect(await errno(live.query(`SELECT * FROM ${app()}.customers`))).toBe('no error');
    const fewer = request('changing', { grants: [{ privileges: ['SELECT'], tables: [{ schema: app(), name: 'customers' }] }] });
    await session.mint(fewer);
    expect(await tablePrivs(g)).toEqual([`${app()}.customers:Select`]);
    const last = await connectAs(fewer.login, fewer.password);
    expect(await errno(last.query(`SELECT * FROM ${app()}.orders`))).toBe(1142);
    expect(await errno(live.query(`SELECT * FROM ${app()}.orders`))).toBe(1142);
    for (const r of [first, both, fewer]) await session.revoke({ login: r.login });
  });

  it('a privilege granted to the group behind jit\'s back (digest still matching) is taken away at the next mint', async () => {
    const g = group('tampered');
    const a = request('tampered');
    await session.mint(a);
    await root.query(`GRANT SELECT ON \`${app()}\`.secrets TO \`${g}\``);
    const b = request('tampered');
    await session.mint(b);
    expect(await tablePrivs(g)).toEqual([`${app()}.orders:Select`]);
    const c = await connectAs(b.login, b.password);
    expect(await errno(c.query(`SELECT * FROM ${app()}.secrets`))).toBe(1142);
    for (const r of [a, b]) await session.revoke({ login: r.login });
  });

  it('member_of goes into the group: MariaDB activates the role granted to the default role, and the login reads through it', async () => {
    const g = group('analyst');
    const req = request('analyst', { memberOf: ['analytics_ro'] });
    await session.mint(req);
    expect(await rolesOf(g)).toEqual(['analytics_ro']);
    expect(await rolesOf(req.login)).toEqual([g]);
    const c = await connectAs(req.login, req.password);
    expect(((await c.query('SELECT total FROM reporting.daily'))[0] as Row[]).map((r) => String(r.total))).toEqual(['35.50']);
    expect(await errno(c.query('SELECT * FROM reporting.weekly'))).toBe(1142);
    await session.revoke({ login: req.login });
  });

  it('a column privilege planted on a group with a member_of role: the rebuild clears everything and keeps the role working', async () => {
    const g = group('analyst-reset');
    const a = request('analyst-reset', { memberOf: ['analytics_ro'] });
    await session.mint(a);
    await root.query(`GRANT SELECT (secret) ON \`${app()}\`.secrets TO \`${g}\``);
    const b = request('analyst-reset', { memberOf: ['analytics_ro'] });
    await session.mint(b);
    expect(await rows('SELECT 1 FROM mysql.columns_priv WHERE User = ?', [g])).toEqual([]);
    expect(await tablePrivs(g)).toEqual([`${app()}.orders:Select`]);
    expect(await rolesOf(g)).toEqual(['analytics_ro']);
    const c = await connectAs(b.login, b.password);
    expect(await errno(c.query(`SELECT secret FROM ${app()}.secrets`))).toBe(1142);
    expect(await errno(c.query('SELECT total FROM reporting.daily'))).toBe('no error');
    for (const r of [a, b]) await session.revoke({ login: r.login });
  });

  it('--only narrowing keeps per-login grants: no group membership, the login\'s own tables_priv row', async () => {
    const req = request('narrowed', { narrowed: true });
    await session.mint(req);
    expect(await rolesOf(req.login)).toEqual([]);
    expect(await tablePrivs(req.login)).toEqual([`${app()}.orders:Select`]);
    expect(await rows("SELECT 1 FROM mysql.user WHERE User = ? AND is_role = 'Y'", [group('narrowed')])).toEqual([]);
    await session.revoke({ login: req.login });
  });

  it('hostile policy role and table names reach the server only quoted', async () => {
    const role = "o'ne`il\\ \"x\"; DROP TABLE t; --";
    const g = group(role);
    expect(g.startsWith("jitgroup_o'ne`il\\")).toBe(true);
    const req = request(role, { grants: [{ privileges: ['SELECT'], tables: [{ schema: app(), name: 'a`b' }, { schema: app(), name: "o'neil\\" }] }] });
    await session.mint(req);
    expect(await tablePrivs(g)).toEqual([`${app()}.a\`b:Select`, `${app()}.o'neil\\:Select`]);
    const c = await connectAs(req.login, req.password);
    expect(((await c.query(`SELECT id FROM \`${app()}\`.\`a\`\`b\``))[0] as Row[])[0]!.id).toBe(42);
    await session.revoke({ login: req.login });
  });

  describe('a role of the group\'s name that jit did not shape is refused, never filled', () => {
    const planter = `planter${randomLowerAlnum(8)}`;
    const planterPw = generatePassword();
    let planted: mysql.Connection;

    beforeAll(async () => {
      await root.query(`CREATE USER \`${planter}\`@'%' IDENTIFIED BY ?`, [planterPw]);
      await root.query(`GRANT CREATE USER ON *.* TO \`${planter}\`@'%'`);
      cleanupSql.push(`DROP USER IF EXISTS \`${planter}\`@'%'`);
      planted = await connectAs(planter, planterPw, null);
    });

    it('planted by another account with CREATE USER (it is the role\'s admin): one line naming the role, a hint, nothing created', async () => {
      const g = group('planted');
      await planted.query(`CREATE ROLE \`${g}\``);
      cleanupSql.push(`DROP ROLE IF EXISTS \`${g}\``);
      const req = request('planted');
      const err = await session.mint(req).then(() => null, (e: Error & { hint?: string; exitCode?: number }) => e);
      expect(err?.message).toContain(`role ${g} exists and was not built by jit as a group role`);
      expect(err?.message).toContain(`granted to ${planter}@%`);
      expect(err?.message).not.toContain('\n');
      expect(err?.hint).toContain(`DROP ROLE \`${g}\``);
      expect(err?.exitCode).toBe(1);
      expect(await tablePrivs(g)).toEqual([]);
      expect(await rows('SELECT 1 FROM mysql.user WHERE User = ?', [req.login])).toEqual([]);
      expect(await rows('SELECT 1 FROM jit.leases WHERE login = ?', [req.login])).toEqual([]);
    });

    it('still refused with a row forged in jit.groups carrying the right digest', async () => {
      const g = group('planted');
      const digest = (await import('../../src/engines/mysql/mysql-group.js')).groupDigest({
        policyDatabase: 'group-db', database: app(), role: 'planted', admin: `${server.adminUser}@%`, memberOf: [],
        grants: [{ privileges: ['SELECT'], tables: [{ schema: app(), name: 'orders' }] }],
      });
      await root.query("INSERT INTO jit.groups (name, `database`, role, digest) VALUES (?, 'group-db', 'planted', ?)", [g, digest]);
      cleanupSql.push(`DELETE FROM jit.groups WHERE name = '${g}'`);
      const err = await session.mint(request('planted')).then(() => null, (e: Error) => e);
      expect(err?.message).toContain(`role ${g} exists and was not built by jit as a group role`);
      expect(await tablePrivs(g)).toEqual([]);
    });

    it('planted WITH ADMIN the jit admin (no foreign member) but missing from jit.groups: refused', async () => {
      const g = group('adopted');
      // WITH ADMIN another account takes SUPER or SET USER: a DBA's doing.
      await root.query(`CREATE ROLE \`${g}\` WITH ADMIN \`${server.adminUser}\`@'%'`);
      cleanupSql.push(`DROP ROLE IF EXISTS \`${g}\``);
      const err = await session.mint(request('adopted')).then(() => null, (e: Error) => e);
      expect(err?.message).toContain('it has no row in jit.groups');
      expect(await tablePrivs(g)).toEqual([]);
    });

    it('a group jit built that was later granted global privileges or given to another account is refused', async () => {
      const g = group('spoiled');
      const a = request('spoiled');
      await session.mint(a);
      await session.revoke({ login: a.login });
      await root.query(`GRANT PROCESS ON *.* TO \`${g}\``);
      let err = await session.mint(request('spoiled')).then(() => null, (e: Error) => e);
      expect(err?.message).toContain('it holds global privileges');
      await root.query(`REVOKE PROCESS ON *.* FROM \`${g}\``);
      // Granting a role takes its ADMIN OPTION, even for root: someone with the admin's credential.
      const asAdmin = await connectAs(server.adminUser, server.adminPassword, null);
      await asAdmin.query(`GRANT \`${g}\` TO \`${planter}\`@'%'`);
      err = await session.mint(request('spoiled')).then(() => null, (e: Error) => e);
      expect(err?.message).toContain(`granted to ${planter}@%`);
      await asAdmin.query(`REVOKE \`${g}\` FROM \`${planter}\`@'%'`);
      const ok = request('spoiled');
      await session.mint(ok);
      await session.revoke({ login: ok.login });
    });
  });

  it.each([['SET USER, CONNECTION ADMIN, BINLOG ADMIN'], ['DELETE HISTORY']])(
    'a group jit built that was later granted %s ON *.* (privileges mysql.user has no column for) is refused, and no login gets them',
    async (privs) => {
      const role = `hidden${privs.length}`;
      const g = group(role);
      const a = request(role);
      await session.mint(a);
      await root.query(`GRANT ${privs} ON *.* TO \`${g}\``);
      const b = request(role);
      const err = await session.mint(b).then(() => null, (e: Error) => e);
      expect(err?.message).toContain(`role ${g} exists and was not built by jit as a group role (it holds global privileges, which jit never grants)`);
      expect(await rows('SELECT 1 FROM mysql.user WHERE User = ?', [b.login])).toEqual([]);
      await root.query(`REVOKE ${privs} ON *.* FROM \`${g}\``);
      await session.revoke({ login: a.login });
    },
  );

  it('an admin that cannot read the grant tables: doctor names the GRANTs, a mint fails in one line and creates nothing', async () => {
    const lim = `limadmin${randomLowerAlnum(8)}`;
    const pw = generatePassword();
    await root.query(`CREATE USER \`${lim}\`@'%' IDENTIFIED BY ?`, [pw]);
    cleanupSql.push(`DROP USER IF EXISTS \`${lim}\`@'%'`);
    await root.query(`GRANT CREATE USER, PROCESS, CONNECTION ADMIN ON *.* TO \`${lim}\`@'%'`);
    await root.query(`GRANT SELECT ON mysql.user TO \`${lim}\`@'%'`);
    await root.query(`GRANT CREATE, EVENT, SELECT, INSERT, UPDATE, DELETE ON jit.* TO \`${lim}\`@'%'`);
    await root.query(`GRANT SELECT ON \`${app()}\`.* TO \`${lim}\`@'%' WITH GRANT OPTION`);
    const s = await mysqlEngine.connectAdmin(server.target({ adminUser: lim }), pw);
    try {
      const problems = await s.checkPrivileges();
      expect(problems).toEqual([
        `${lim} cannot read mysql.roles_mapping, mysql.db, mysql.tables_priv, mysql.columns_priv, mysql.procs_priv, mysql.global_priv, so it cannot check the group roles that hold each policy role's grants; ` +
          'GRANT SELECT ON mysql.roles_mapping TO it; GRANT SELECT ON mysql.db TO it; GRANT SELECT ON mysql.tables_priv TO it; GRANT SELECT ON mysql.columns_priv TO it; GRANT SELECT ON mysql.procs_priv TO it; GRANT SELECT ON mysql.global_priv TO it',
      ]);
      const req = request('unreadable');
      const err = await s.mint(req).then(() => null, (e: Error & { hint?: string }) => e);
      expect(err?.message).toBe(`${lim} cannot read mysql.roles_mapping on 127.0.0.1:${server.port}, which it needs to check the group role that holds the role's grants; no login was minted`);
      expect(err?.hint).toContain(`GRANT SELECT ON mysql.roles_mapping TO ${lim}`);
      expect(await rows('SELECT 1 FROM mysql.user WHERE User = ?', [req.login])).toEqual([]);
      // Narrowed requests keep per-login grants and need none of it.
      const narrowed = request('unreadable', { narrowed: true });
      await s.mint(narrowed);
      await s.revoke({ login: narrowed.login });
    } finally {
      await s.close();
    }
  });

  it('the expiry event drops a login of a group and leaves the group', async () => {
    const g = group('expiring');
    const req = request('expiring', { expiresAt: new Date(Date.now() + 2_000) });
    await session.mint(req);
    expect(await rolesOf(req.login)).toEqual([g]);
    const end = Date.now() + 30_000;
    while ((await rows('SELECT 1 FROM mysql.user WHERE User = ?', [req.login])).length > 0) {
      if (Date.now() > end) throw new Error('the event did not drop the login');
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(await rows('SELECT 1 FROM mysql.roles_mapping WHERE User = ?', [req.login])).toEqual([]);
    expect(await rows("SELECT 1 FROM mysql.user WHERE User = ? AND is_role = 'Y'", [g])).toHaveLength(1);
  });
});
