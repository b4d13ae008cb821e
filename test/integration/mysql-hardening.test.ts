/**
 * The MySQL/MariaDB engine attacked on a real MariaDB 10.11: forged ledger rows, roles and PUBLIC
 * grants that reach the ledger, LIKE patterns in schema grants, a hostile global sql_mode, long
 * requester names. Each test is named after what broke; each failed before its fix. The run's
 * MariaDB, in an exclusive scope (global sql_mode, PUBLIC grants, accounts named like jit's): what
 * the attacks leave behind is removed when the scope ends.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type mysql from 'mysql2/promise';
import type { AdminSession, LeaseMarker, MintRequest } from '../../src/engines/engine.js';
import { generatePassword, randomLowerAlnum } from '../../src/core/random.js';
import { mysqlEngine } from '../../src/engines/mysql/mysql-engine.js';
import { useMariadb } from '../helpers/servers.js';

const server = useMariadb({ exclusive: true });
let session: AdminSession;
let root: mysql.Connection;
const clients: mysql.Connection[] = [];

const newLogin = () => `jit_atk_${randomLowerAlnum(12)}`;

function request(overrides: Partial<MintRequest> = {}): MintRequest {
  const login = overrides.login ?? newLogin();
  const now = Date.now();
  const expiresAt = overrides.expiresAt ?? new Date(now + 900_000);
  const marker: LeaseMarker = {
    id: randomLowerAlnum(10),
    database: 'test-db',
    role: 'readonly',
    requester: 'tester',
    requester_host: 'ci',
    created_at: new Date(now).toISOString(),
    expires_at: expiresAt.toISOString(),
    max_expires_at: new Date(now + 3_600_000).toISOString(),
  };
  return {
    login,
    password: generatePassword(),
    expiresAt,
    grants: [{ privileges: ['SELECT'], tables: [{ schema: server.database, name: 'orders' }] }],
    memberOf: [],
    connectionLimit: -1,
    marker,
    ...overrides,
  };
}

const errno = (p: Promise<unknown>) =>
  p.then(
    () => 'no error',
    (e: { errno?: number; code?: string }) => e.errno ?? e.code ?? String(e),
  );

async function accounts(login: string): Promise<string[]> {
  const [rows] = await root.query('SELECT Host FROM mysql.user WHERE User = ? ORDER BY Host', [login]);
  return (rows as Array<{ Host: string }>).map((r) => r.Host);
}

async function ledgerRows(login: string): Promise<Array<Record<string, unknown>>> {
  const [rows] = await root.query('SELECT * FROM jit.leases WHERE BINARY login = BINARY ?', [login]);
  return rows as Array<Record<string, unknown>>;
}

async function events(login: string): Promise<number> {
  const [rows] = await root.query("SELECT COUNT(*) AS n FROM information_schema.EVENTS WHERE EVENT_SCHEMA = 'jit' AND EVENT_NAME = ?", [`expire_${login}`]);
  return Number((rows as Array<{ n: number }>)[0]!.n);
}

/** A row as someone with INSERT on jit.leases would write it. */
async function forgeRow(login: string): Promise<void> {
  await root.query(
    "INSERT INTO jit.leases VALUES (?, '%', 'forged', 'test-db', 'readonly', 'mallory', 'evil', NULL, UTC_TIMESTAMP(6) - INTERVAL 2 HOUR, UTC_TIMESTAMP(6) - INTERVAL 1 HOUR, UTC_TIMESTAMP(6))",
    [login],
  );
}

/** Accounts, roles and schemas the attacks make, dropped when the file ends. */
const made = { users: [] as string[], roles: [] as string[], schemas: [] as string[] };

beforeAll(async () => {
  root = await server.admin();
  session = await mysqlEngine.connectAdmin(server.target(), server.adminPassword);
  // The ledger exists from the first mint on.
  const req = request();
  await session.mint(req);
  await session.revoke({ login: req.login });
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.end().catch(() => c.destroy())));
  await session?.close();
  if (root) {
    for (const u of made.users) await root.query("DROP USER IF EXISTS ?@'%'", [u]);
    for (const r of made.roles) await root.query('DROP ROLE IF EXISTS ' + '`' + r + '`');
    for (const d of made.schemas) await root.query('DROP DATABASE IF EXISTS ' + '`' + d + '`');
    await root.query("REVOKE SELECT, GRANT OPTION ON `lk%`.* FROM jitadmin@'%'").catch(() => {});
    await root.query("DELETE FROM jit.leases WHERE requester = 'mallory'");
    await root.end().catch(() => {});
  }
});

describe('forged ledger rows', () => {
  it('a forged row naming an account with global privileges (jit_replicationbot with RELOAD) is not dropped by revoke --all, reap or revoke', async () => {
    made.users.push('jit_replicationbot');
    await root.query("CREATE USER jit_replicationbot@'%' IDENTIFIED BY 'x'");
    await root.query("GRANT RELOAD, SELECT ON *.* TO jit_replicationbot@'%'");
    await forgeRow('jit_replicationbot');
    const found = (await session.listLogins()).map((l) => l.login);
    expect(found).toContain('jit_replicationbot');
    const [res] = await session.revokeMany([{ login: 'jit_replicationbot' }]);
    expect(res!.gone).toBe(false);
    expect(res!.errors.join(' ')).toMatch(/not jit's|did not mint/);
    await expect(session.revoke({ login: 'jit_replicationbot' })).rejects.toThrow(/global privileges/);
    expect(await accounts('jit_replicationbot')).toEqual(['%']);
  });

  it('a forged row naming the admin-like account jit_admin (CREATE USER) is refused, the admin keeps working', async () => {
    made.users.push('jit_admin');
    await root.query("CREATE USER jit_admin@'%' IDENTIFIED BY 'x'");
    await root.query("GRANT CREATE USER, PROCESS ON *.* TO jit_admin@'%'");
    await forgeRow('jit_admin');
    const results = await session.revokeMany([{ login: 'jit_admin' }]);
    expect(results[0]!.gone).toBe(false);
    expect(await accounts('jit_admin')).toEqual(['%']);
  });

  it("a forged row 'jit_…  ' with trailing spaces does not reach the account without them (PAD SPACE)", async () => {
    const victim = newLogin();
    made.users.push(victim);
    await root.query('CREATE USER ?@? IDENTIFIED BY ?', [victim, '%', 'victim-pw']);
    const c = await server.connectAs(victim, 'victim-pw', null);
    clients.push(c);
    await forgeRow(`${victim}  `);
    // Not listed: a name with spaces is not a jit login name, whatever the ledger says.
    const listed = (await session.listLogins()).map((l) => l.login);
    expect(listed).not.toContain(`${victim}  `);
    expect(listed).not.toContain(victim);
    const [res] = await session.revokeMany([{ login: `${victim}  ` }]);
    expect(res!.gone).toBe(false);
    await expect(session.revoke({ login: `${victim}  ` })).rejects.toThrow(/not a jit login name/);
    expect(await accounts(victim)).toEqual(['%']);
    // Its session was not killed either.
    expect(await errno(c.query('SELECT 1'))).toBe('no error');
  });
});

describe('forged ledger rows and what the server-wide listings show', () => {
  it('a row for root shows none of root\'s statements in sessions; a row for a role (a group) is not listed as a login', async () => {
    const role = `jitgroup_forged_${randomLowerAlnum(6)}`;
    made.roles.push(role);
    await root.query('CREATE ROLE ' + '`' + role + '`');
    await forgeRow('root');
    await forgeRow(role);
    // root's own connection runs a statement while the listings are read.
    const busy = root.query('SELECT SLEEP(2)');
    await new Promise((r) => setTimeout(r, 300));
    const sessions = await session.sessions();
    await busy;
    expect(sessions.map((x) => x.login)).not.toContain('root');
    const listed = (await session.listLogins()).map((l) => l.login);
    expect(listed).not.toContain('root');
    expect(listed).not.toContain(role);
    await root.query("DELETE FROM jit.leases WHERE login IN ('root', ?)", [role]);
  });
});

describe('privileges on the ledger that reach a login', () => {
  it('a member_of role with DELETE and EVENT on jit.* is refused at mint: the login could delete its ledger row and outlive revocation', async () => {
    made.roles.push('ledger_rw');
    await root.query('CREATE ROLE ledger_rw');
    await root.query(`GRANT SELECT ON ${server.database}.orders TO ledger_rw`);
    await root.query('GRANT DELETE, EVENT ON jit.* TO ledger_rw');
    await root.query("GRANT ledger_rw TO jitadmin@'%' WITH ADMIN OPTION");
    const req = request({ memberOf: ['ledger_rw'], grants: [] });
    await expect(session.mint(req)).rejects.toThrow(/ledger_rw would give every jit login DELETE, EVENT ON jit\.\*/);
    expect(await accounts(req.login)).toEqual([]);
    expect(await ledgerRows(req.login)).toEqual([]);
    expect(await events(req.login)).toBe(0);
  });

  it('a nested role (granted to the member_of role) with DROP on jit.leases is refused at mint', async () => {
    made.roles.push('outer_ro', 'inner_drop');
    await root.query('CREATE ROLE outer_ro');
    await root.query('CREATE ROLE inner_drop');
    await root.query(`GRANT SELECT ON ${server.database}.orders TO outer_ro`);
    await root.query('GRANT DROP ON jit.leases TO inner_drop');
    await root.query('GRANT inner_drop TO outer_ro');
    await root.query("GRANT outer_ro TO jitadmin@'%' WITH ADMIN OPTION");
    const req = request({ memberOf: ['outer_ro'], grants: [] });
    await expect(session.mint(req)).rejects.toThrow(/DROP ON jit\.leases/);
    expect(await accounts(req.login)).toEqual([]);
  });

  it('a grant to PUBLIC on `ji_`.* (a LIKE pattern covering jit) is refused at mint, before anything is created', async () => {
    await root.query('GRANT DELETE ON `ji_`.* TO PUBLIC');
    try {
      const req = request();
      await expect(session.mint(req)).rejects.toThrow(/PUBLIC would give every jit login DELETE ON ji_\.\*/);
      expect(await accounts(req.login)).toEqual([]);
      expect(await ledgerRows(req.login)).toEqual([]);
    } finally {
      await root.query('REVOKE DELETE ON `ji_`.* FROM PUBLIC');
    }
  });
});

describe('schema grants are not LIKE patterns', () => {
  it('schema: lk_1 grants lk_1 only, not lkx1 (GRANT … ON `lk_1`.* is a pattern)', async () => {
    made.schemas.push('lk_1', 'lkx1');
    await root.query('CREATE DATABASE lk_1');
    await root.query('CREATE TABLE lk_1.t (id int)');
    await root.query('CREATE DATABASE lkx1');
    await root.query("CREATE TABLE lkx1.secret (s text)");
    await root.query("INSERT INTO lkx1.secret VALUES ('payroll')");
    // A lazily wide admin: grant option on every lk* schema.
    await root.query("GRANT SELECT ON `lk%`.* TO jitadmin@'%' WITH GRANT OPTION");
    const req = request({ grants: [{ privileges: ['SELECT'], schema: 'lk_1' }] });
    await session.mint(req);
    const c = await server.connectAs(req.login, req.password, null);
    clients.push(c);
    expect(await errno(c.query('SELECT * FROM lk_1.t'))).toBe('no error');
    expect(await errno(c.query('SELECT * FROM lkx1.secret'))).toBe(1142);
    await session.revoke({ login: req.login });
  });
});

describe('a hostile server configuration', () => {
  it("a global sql_mode of ORACLE does not break mint (the expiry event's body parsed as PL/SQL: 1064)", async () => {
    await root.query("SET GLOBAL sql_mode = 'ORACLE'");
    let s: AdminSession | undefined;
    try {
      s = await mysqlEngine.connectAdmin(server.target(), server.adminPassword);
      const req = request();
      await s.mint(req);
      expect(await events(req.login)).toBe(1);
      const res = await s.revoke({ login: req.login });
      expect(res).toMatchObject({ gone: true, errors: [] });
      expect(await accounts(req.login)).toEqual([]);
    } finally {
      await s?.close();
      await root.query('SET GLOBAL sql_mode = DEFAULT');
    }
  });

  it('a 300-character requester name (JIT_REQUESTER) is cut to fit the ledger, not a failed mint (1406)', async () => {
    const base = request();
    const req = { ...base, marker: { ...base.marker, requester: `o'neil\\\n${'x'.repeat(300)}` } };
    await session.mint(req);
    const [row] = await ledgerRows(req.login);
    expect(String(row!.requester)).toHaveLength(255);
    expect(String(row!.requester).startsWith("o'neil\\\n")).toBe(true);
    await session.revoke({ login: req.login });
  });

  it('doctor names expiry events that run as another account than the admin (dropped or renamed: they fail when due with 1449)', async () => {
    const req = request();
    await session.mint(req);
    await root.query("CREATE DEFINER = 'old_admin'@'%' EVENT jit.expire_jit_old_aaaaaaaaaaaa ON SCHEDULE AT UTC_TIMESTAMP() + INTERVAL 1 DAY DO SELECT 1");
    try {
      const notes = await session.expiryChecks(server.database, []);
      const note = notes.find((n) => n.name === 'expiry events');
      expect(note).toMatchObject({ ok: true, warning: true });
      expect(note!.detail).toMatch(/^1 login expiry event\(s\) run as old_admin@%, not as this admin/);
    } finally {
      await root.query('DROP EVENT jit.expire_jit_old_aaaaaaaaaaaa');
      await session.revoke({ login: req.login });
    }
    expect((await session.expiryChecks(server.database, [])).map((n) => n.name)).not.toContain('expiry events');
  });
});
