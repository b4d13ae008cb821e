/**
 * The MySQL/MariaDB engine against the run's MariaDB 10.11, in an exclusive scope (it makes
 * anonymous accounts and turns the event scheduler off), with the general log on. Privileges are proven by logging in as the minted login and trying,
 * revocation by trying again afterwards, the expiry event by waiting for the server to act.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type mysql from 'mysql2/promise';
import type { AdminSession, LeaseMarker, MintRequest } from '../../src/engines/engine.js';
import { JitError, isServerError } from '../../src/core/errors.js';
import { makeLoginName } from '../../src/core/names.js';
import { generatePassword, randomLowerAlnum } from '../../src/core/random.js';
import { mysqlEngine } from '../../src/engines/mysql/mysql-engine.js';
import { optionValue } from '../../src/engines/mysql/mysql-uri.js';
import { useMariadb } from '../helpers/servers.js';

const run = promisify(execFile);

const server = useMariadb({ exclusive: true });
/** This scope's copy of the fixture schema (`app_<n>`). */
const app = () => server.database;
let session: AdminSession;
let root: mysql.Connection;
const clients: mysql.Connection[] = [];
const passwords: string[] = [];

function request(overrides: Partial<MintRequest> = {}): MintRequest {
  const login = overrides.login ?? `jit_test_${randomLowerAlnum(12)}`;
  const now = Date.now();
  const expiresAt = overrides.expiresAt ?? new Date(now + 900_000);
  const marker: LeaseMarker = {
    id: randomLowerAlnum(10),
    database: 'test-db',
    role: 'readonly',
    requester: 'tester',
    requester_host: 'ci',
    reason: "ticket o'neil\\ #1",
    created_at: new Date(now).toISOString(),
    expires_at: expiresAt.toISOString(),
    max_expires_at: new Date(now + 3_600_000).toISOString(),
  };
  const password = overrides.password ?? generatePassword();
  passwords.push(password);
  return {
    login,
    password,
    expiresAt,
    grants: [{ privileges: ['SELECT'], tables: [{ schema: app(), name: 'orders' }, { schema: app(), name: 'customers' }] }],
    memberOf: [],
    connectionLimit: -1,
    marker,
    ...overrides,
  };
}

async function connectAs(user: string, password: string, database?: string | null): Promise<mysql.Connection> {
  const c = await server.connectAs(user, password, database);
  clients.push(c);
  return c;
}

/** The server's error number, or 'no error'. */
const errno = (p: Promise<unknown>) =>
  p.then(
    () => 'no error',
    (e: { errno?: number; code?: string }) => e.errno ?? e.code ?? String(e),
  );

async function accounts(login: string): Promise<string[]> {
  const [rows] = await root.query('SELECT Host FROM mysql.user WHERE User = ? ORDER BY Host', [login]);
  return (rows as Array<{ Host: string }>).map((r) => r.Host);
}

async function ledgerRow(login: string): Promise<Record<string, unknown> | undefined> {
  const [rows] = await root.query('SELECT * FROM jit.leases WHERE login = ?', [login]);
  return (rows as Array<Record<string, unknown>>)[0];
}

async function eventAt(login: string): Promise<string | null> {
  // Events are created in UTC: EXECUTE_AT is shown in the event's zone.
  const [rows] = await root.query("SELECT DATE_FORMAT(EXECUTE_AT, '%Y-%m-%dT%H:%i:%sZ') AS at FROM information_schema.EVENTS WHERE EVENT_SCHEMA = 'jit' AND EVENT_NAME = ?", [`expire_${login}`]);
  const r = (rows as Array<{ at: string }>)[0];
  return r ? r.at : null;
}

async function pollUntil(what: string, check: () => Promise<boolean>, deadlineMs = 60_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(async () => {
  root = await server.admin();
  session = await mysqlEngine.connectAdmin(server.target(), server.adminPassword);
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.end().catch(() => c.destroy())));
  await session?.close();
  await root?.end().catch(() => {});
});

describe('mint', () => {
  it('grants exactly the listed tables: reads work, other tables and writes are refused (1142)', async () => {
    const req = request();
    const { serverNow } = await session.mint(req);
    expect(Math.abs(serverNow.getTime() - Date.now())).toBeLessThan(5_000);
    const c = await connectAs(req.login, req.password);
    const [rows] = await c.query(`SELECT id FROM ${app()}.orders ORDER BY id`);
    expect(rows).toEqual([{ id: 1 }, { id: 2 }]);
    expect(await errno(c.query(`SELECT * FROM ${app()}.secrets`))).toBe(1142);
    expect(await errno(c.query(`INSERT INTO ${app()}.orders VALUES (3, 1, 1.00)`))).toBe(1142);
    expect(await errno(c.query('SELECT * FROM jit.leases'))).toBe(1142);
    expect(await accounts(req.login)).toEqual(['%']);
    // MariaDB: the grants are the role's group's (mysql-group-roles.test.ts), the login holds none itself.
    const [own] = await root.query('SELECT 1 FROM mysql.tables_priv WHERE User = ?', [req.login]);
    expect(own).toEqual([]);
    const [member] = await root.query('SELECT Role AS r FROM mysql.roles_mapping WHERE User = ?', [req.login]);
    expect((member as Array<{ r: string }>).map((r) => r.r)).toEqual([expect.stringMatching(/^jitgroup_readonly_[0-9a-f]{10}$/)]);
    const row = await ledgerRow(req.login);
    expect(row).toMatchObject({ lease_id: req.marker.id, role: 'readonly', requester: 'tester', reason: req.marker.reason });
    await session.revoke({ login: req.login });
  });

  it('a schema grant covers every table of the schema', async () => {
    const req = request({ grants: [{ privileges: ['SELECT'], schema: 'reporting' }] });
    await session.mint(req);
    // Nothing granted in app: USE app (the URI's schema) is refused, as checkGrants warns.
    expect(await errno(connectAs(req.login, req.password))).toBe(1044);
    const c = await connectAs(req.login, req.password, null);
    await c.query('SELECT * FROM reporting.weekly');
    expect(await errno(c.query(`SELECT * FROM ${app()}.orders`))).toBe(1142);
    await session.revoke({ login: req.login });
  });

  it('connection_limit becomes MAX_USER_CONNECTIONS: a second session is refused (1226)', async () => {
    const req = request({ connectionLimit: 1 });
    await session.mint(req);
    await connectAs(req.login, req.password);
    expect(await errno(connectAs(req.login, req.password))).toBe(1226);
    await session.revoke({ login: req.login });
  });

  it('hostile identifiers: a table named a`b and a role named o\'neil\\ (default role, active at login)', async () => {
    const req = request({ grants: [{ privileges: ['SELECT'], tables: [{ schema: app(), name: 'a`b' }] }], memberOf: ["o'neil\\"] });
    // The fixture role reads app.customers; this scope's copy gets the same grant.
    await root.query(`GRANT SELECT ON ${app()}.customers TO \`o'neil\\\``);
    await session.mint(req);
    const c = await connectAs(req.login, req.password);
    const [ab] = await c.query(`SELECT id FROM ${app()}.\`a\`\`b\``);
    expect(ab).toEqual([{ id: 42 }]);
    // Only through the role (granted SELECT on customers): proves SET DEFAULT ROLE took effect.
    const [cust] = await c.query(`SELECT name FROM ${app()}.customers ORDER BY id`);
    expect(cust).toEqual([{ name: 'Ada' }, { name: 'Linus' }]);
    expect(await errno(c.query(`SELECT * FROM ${app()}.orders`))).toBe(1142);
    const res = await session.revoke({ login: req.login });
    expect(res).toMatchObject({ gone: true, errors: [] });
    await root.query(`REVOKE SELECT ON ${app()}.customers FROM \`o'neil\\\``);
  });

  it('member_of a role: its grants reach the login', async () => {
    const req = request({ grants: [], memberOf: ['analytics_ro'] });
    await session.mint(req);
    const c = await connectAs(req.login, req.password, null);
    const [rows] = await c.query('SELECT total FROM reporting.daily');
    expect(rows).toEqual([{ total: '35.50' }]);
    await session.revoke({ login: req.login });
  });

  it('more than one member_of on MariaDB is refused before anything is created', async () => {
    const req = request({ memberOf: ['analytics_ro', "o'neil\\"] });
    const err = await session.mint(req).catch((e) => e);
    expect(err).toBeInstanceOf(JitError);
    expect((err as JitError).exitCode).toBe(2);
    expect(await accounts(req.login)).toEqual([]);
    expect(await ledgerRow(req.login)).toBeUndefined();
  });

  it('a grant naming a missing table is undone: no account, no ledger row, no event left (compensating drop)', async () => {
    const req = request({ grants: [{ privileges: ['SELECT'], tables: [{ schema: app(), name: 'orders' }, { schema: app(), name: 'nope' }] }] });
    const err = await session.mint(req).catch((e) => e);
    expect(isServerError(err, 'missing-object')).toBe(true);
    expect((err as JitError).exitCode).toBe(2);
    expect(await accounts(req.login)).toEqual([]);
    expect(await ledgerRow(req.login)).toBeUndefined();
    expect(await eventAt(req.login)).toBeNull();
  });

  it('a missing role and a missing schema are refused as missing objects, leaving nothing', async () => {
    for (const req of [request({ memberOf: ['no_such_role'] }), request({ grants: [{ privileges: ['SELECT'], schema: 'no_such_schema' }] })]) {
      const err = await session.mint(req).catch((e) => e);
      expect(isServerError(err, 'missing-object')).toBe(true);
      expect(await accounts(req.login)).toEqual([]);
      expect(await ledgerRow(req.login)).toBeUndefined();
    }
  });

  it('a 32-character login name from a long OS user name keeps >= 10 random characters and works', async () => {
    const login = makeLoginName('a.very-long.os-user-name.from-ldap', mysqlEngine.profile.maxLoginLength);
    expect(login).toHaveLength(32);
    expect(login).toMatch(/^jit_[a-z0-9]+_[a-z0-9]{10,}$/);
    const req = request({ login });
    await session.mint(req);
    const c = await connectAs(login, req.password);
    const [rows] = await c.query('SELECT CURRENT_USER() AS me');
    expect(rows).toEqual([{ me: `${login}@%` }]);
    await session.revoke({ login });
  });
});

describe('revoke', () => {
  it('ends an open session running SELECT SLEEP(30), then the login fails; a second revoke finds it already gone', async () => {
    const req = request();
    await session.mint(req);
    const c = await connectAs(req.login, req.password);
    const sleeping = errno(c.query('SELECT SLEEP(30)'));
    await pollUntil('the SLEEP to show', async () => (await session.sessions()).some((s) => s.login === req.login && /SLEEP/.test(s.query ?? '')));
    const res = await session.revoke({ login: req.login });
    expect(res).toMatchObject({ login: req.login, gone: true, errors: [] });
    expect(res.alreadyGone).toBeUndefined();
    expect(res.terminated).toBe(1);
    // Killed: the query ends with an error (lost connection / interrupted), long before 30 s.
    expect(await sleeping).not.toBe('no error');
    expect(await errno(server.connectAs(req.login, req.password))).toBe(1045);
    expect(await accounts(req.login)).toEqual([]);
    expect(await ledgerRow(req.login)).toBeUndefined();
    expect(await eventAt(req.login)).toBeNull();
    expect(await session.revoke({ login: req.login })).toEqual({ login: req.login, gone: true, alreadyGone: true, terminated: 0, errors: [] });
  });

  it('two concurrent revokes of one login take turns: one revokes, the other finds it gone', async () => {
    const req = request();
    await session.mint(req);
    await connectAs(req.login, req.password);
    const other = await mysqlEngine.connectAdmin(server.target(), server.adminPassword);
    try {
      const results = await Promise.all([session.revoke({ login: req.login }), other.revoke({ login: req.login })]);
      expect(results.every((r) => r.gone && r.errors.length === 0)).toBe(true);
      expect(results.filter((r) => r.alreadyGone).length).toBe(1);
      expect(results.reduce((n, r) => n + r.terminated, 0)).toBe(1);
    } finally {
      await other.close();
    }
    expect(await accounts(req.login)).toEqual([]);
  });

  it('revokeMany blocks, ends and drops many logins; one result per request, in order', async () => {
    const reqs = [request(), request(), request()];
    for (const r of reqs) await session.mint(r);
    const c = await connectAs(reqs[1]!.login, reqs[1]!.password);
    const sleeping = errno(c.query('SELECT SLEEP(30)'));
    const gone = `jit_test_${randomLowerAlnum(12)}`;
    const results = await session.revokeMany([...reqs.map((r) => ({ login: r.login })), { login: gone }]);
    expect(results.map((r) => r.login)).toEqual([...reqs.map((r) => r.login), gone]);
    expect(results.every((r) => r.gone && r.errors.length === 0)).toBe(true);
    expect(results[1]!.terminated).toBe(1);
    expect(results[3]!.alreadyGone).toBe(true);
    expect(await sleeping).not.toBe('no error');
    for (const r of reqs) {
      expect(await accounts(r.login)).toEqual([]);
      expect(await ledgerRow(r.login)).toBeUndefined();
    }
  });

  it('an account named jit_… without a ledger row is not listed and not dropped', async () => {
    const login = `jit_handmade_${randomLowerAlnum(10)}`;
    await root.query(`CREATE USER ?@'%' IDENTIFIED BY 'whatever-Pw1'`, [login]);
    try {
      expect((await session.listLogins()).map((l) => l.login)).not.toContain(login);
      const err = await session.revoke({ login }).catch((e) => e);
      expect(err).toBeInstanceOf(JitError);
      expect((err as JitError).message).toMatch(/refusing to touch account/);
      const [many] = await session.revokeMany([{ login }]);
      expect(many).toMatchObject({ login, gone: false });
      expect(many!.errors.join(' ')).toMatch(/refusing to touch/);
      expect(await accounts(login)).toEqual(['%']);
    } finally {
      await root.query(`DROP USER ?@'%'`, [login]);
    }
  });

  it('a ledger row whose account never got created is cleaned up and reported as already gone', async () => {
    const req = request();
    await session.mint(req);
    await root.query('DROP USER ?@?', [req.login, '%']);
    const res = await session.revoke({ login: req.login });
    expect(res).toMatchObject({ gone: true, alreadyGone: true, errors: [] });
    expect(await ledgerRow(req.login)).toBeUndefined();
    expect(await eventAt(req.login)).toBeNull();
  });
});

describe('list, sessions, extend', () => {
  it('listLogins and sessions find logins through the ledger, with their marker', async () => {
    const req = request();
    await session.mint(req);
    const c = await connectAs(req.login, req.password);
    await c.query('SELECT 1');
    const found = (await session.listLogins()).find((l) => l.login === req.login);
    expect(found?.marker).toEqual(req.marker);
    expect(found?.sessions).toBe(1);
    expect(found?.validUntil?.getTime()).toBe(Math.ceil(req.expiresAt.getTime() / 1000) * 1000);
    const s = (await session.sessions()).filter((x) => x.login === req.login);
    expect(s).toHaveLength(1);
    expect(s[0]!.clientAddr).toMatch(/^(127\.0\.0\.1|localhost)$/);
    expect(Math.abs(s[0]!.since!.getTime() - Date.now())).toBeLessThan(60_000);
    expect((await session.sessions()).some((x) => x.login === server.adminUser)).toBe(false);
    await session.revoke({ login: req.login });
    expect((await session.listLogins()).map((l) => l.login)).not.toContain(req.login);
  });

  it('extend moves the expiry event and the ledger; an expired login cannot be extended', async () => {
    const req = request();
    await session.mint(req);
    const before = await eventAt(req.login);
    const later = new Date(req.expiresAt.getTime() + 1_800_000);
    await session.extend({ login: req.login, expiresAt: later, marker: { ...req.marker, expires_at: later.toISOString() } });
    const after = await eventAt(req.login);
    expect(after).not.toBe(before);
    expect(Date.parse(after!)).toBe(Math.ceil(later.getTime() / 1000) * 1000);
    const found = (await session.listLogins()).find((l) => l.login === req.login);
    expect(found?.marker?.expires_at).toBe(later.toISOString());
    await root.query("UPDATE jit.leases SET expires_at = UTC_TIMESTAMP(6) - INTERVAL 1 SECOND WHERE login = ?", [req.login]);
    const err = await session.extend({ login: req.login, expiresAt: later, marker: req.marker }).catch((e) => e);
    expect((err as Error).message).toMatch(/expired is final/);
    await session.revoke({ login: req.login });
    const gone = await session.extend({ login: req.login, expiresAt: later, marker: req.marker }).catch((e) => e);
    expect((gone as Error).message).toMatch(/no longer exists/);
  });

  it('the expiry event drops the login and ends its session on the server, without jit', async () => {
    const req = request({ expiresAt: new Date(Date.now() + 3_000) });
    await session.mint(req);
    const c = await connectAs(req.login, req.password);
    const sleeping = errno(c.query('SELECT SLEEP(60)'));
    await pollUntil('the event to drop the account', async () => (await accounts(req.login)).length === 0);
    expect(await sleeping).not.toBe('no error');
    await pollUntil('the ledger row to go', async () => (await ledgerRow(req.login)) === undefined);
    expect(await eventAt(req.login)).toBeNull();
    expect(await errno(server.connectAs(req.login, req.password))).toBe(1045);
  });
});

describe('anonymous accounts', () => {
  const anonymous = ['localhost', hostname()];
  beforeAll(async () => {
    for (const h of anonymous) await root.query("CREATE USER ''@?", [h]);
  });
  afterAll(async () => {
    for (const h of anonymous) await root.query("DROP USER IF EXISTS ''@?", [h]);
  });

  it('shadow a plain account over TCP 127.0.0.1 (the server matches 127.0.0.1 as localhost)', async () => {
    await root.query("CREATE USER 'plain_victim'@'%' IDENTIFIED BY 'Victim-pw-1'");
    try {
      expect(await errno(server.connectAs('plain_victim', 'Victim-pw-1'))).toBe(1045);
    } finally {
      await root.query("DROP USER 'plain_victim'@'%'");
    }
  });

  it('the minted login still logs in over TCP 127.0.0.1 and with the mariadb client; revoke drops every host', async () => {
    const req = request();
    await session.mint(req);
    expect(await accounts(req.login)).toEqual(['%', ...anonymous].sort());
    // Per-login grants at every host, no group role: only the login could set its own default
    // role, on the one account its connection matches.
    const [granted] = await root.query('SELECT DISTINCT Host AS h FROM mysql.tables_priv WHERE User = ? ORDER BY Host', [req.login]);
    expect((granted as Array<{ h: string }>).map((r) => r.h)).toEqual(['%', ...anonymous].sort());
    const [roles] = await root.query('SELECT Role FROM mysql.roles_mapping WHERE User = ?', [req.login]);
    expect(roles).toEqual([]);
    const c = await connectAs(req.login, req.password);
    const [rows] = await c.query(`SELECT CURRENT_USER() AS me, (SELECT COUNT(*) FROM ${app()}.orders) AS n`);
    expect(rows).toEqual([{ me: `${req.login}@localhost`, n: 2 }]);

    const dir = await mkdtemp(join(tmpdir(), 'jit-mysql-launch-'));
    try {
      const launch = await mysqlEngine.clientLaunch(server.target({ host: 'localhost' }), req.login, req.password, dir);
      const { stdout } = await run('mariadb', [...launch.args, '--batch', '--skip-column-names', '-e', 'SELECT CURRENT_USER(), DATABASE(), COUNT(*) FROM orders'], { env: { ...process.env, ...launch.env } });
      expect(stdout.trim().split('\t')).toEqual([`${req.login}@localhost`, app(), '2']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const notes = await session.expiryChecks(app(), []);
    expect(notes).toContainEqual(expect.objectContaining({ name: 'anonymous accounts', warning: true, detail: expect.stringMatching(/^''@'localhost'.* shadow 'jit_…'@'%'/) }));

    const res = await session.revoke({ login: req.login });
    expect(res).toMatchObject({ gone: true, errors: [], terminated: 1 });
    expect(await accounts(req.login)).toEqual([]);
  });
  it('member_of with anonymous accounts present is refused when the admin may not set others\' default roles, leaving nothing', async () => {
    const req = request({ memberOf: ['analytics_ro'] });
    const err = await session.mint(req).catch((e) => e);
    expect(err).toBeInstanceOf(JitError);
    expect((err as JitError).message).toMatch(/cannot make analytics_ro the default role/);
    expect(await accounts(req.login)).toEqual([]);
    expect(await ledgerRow(req.login)).toBeUndefined();
    expect(await eventAt(req.login)).toBeNull();
  });
});

describe('client hand-off', () => {
  it('clientLaunch writes a 0600 option file that alone holds the password; the client logs in with it', async () => {
    const req = request();
    await session.mint(req);
    const dir = await mkdtemp(join(tmpdir(), 'jit-mysql-launch-'));
    try {
      const launch = await mysqlEngine.clientLaunch(server.target(), req.login, req.password, dir);
      expect(launch.env).toEqual({});
      expect(launch.files).toHaveLength(1);
      const file = launch.files[0]!;
      expect(file.startsWith(dir)).toBe(true);
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      expect(await readFile(file, 'utf8')).toContain(req.password);
      expect(launch.args.join(' ')).not.toContain(req.password);
      expect(launch.args[0]).toBe(`--defaults-extra-file=${file}`);
      const { stdout } = await run('mariadb', [...launch.args, '--batch', '--skip-column-names', '-e', 'SELECT CURRENT_USER()']);
      expect(stdout.trim()).toBe(`${req.login}@%`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    await session.revoke({ login: req.login });
  });

  it('option-file values with quotes, backslashes, # and spaces read back exactly (mariadb --print-defaults)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'jit-mysql-opt-'));
    try {
      const value = `a"b\\c #d 'e`;
      const file = join(dir, 'x.cnf');
      await writeFile(file, `[client]\nuser=${optionValue(value)}\n`, { mode: 0o600 });
      const { stdout } = await run('mariadb', [`--defaults-file=${file}`, '--print-defaults']);
      expect(stdout).toContain(`--user=${value}`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('the URI and the client variables reach the server', async () => {
    const req = request();
    await session.mint(req);
    const uri = mysqlEngine.buildUri(server.target(), req.login, req.password);
    expect(uri).toBe(`mysql://${req.login}:${encodeURIComponent(req.password)}@127.0.0.1:${server.port}/${app()}`);
    const { default: mysql2 } = await import('mysql2/promise');
    const c = await mysql2.createConnection(uri);
    clients.push(c);
    const [rows] = await c.query('SELECT COUNT(*) AS n FROM orders');
    expect(rows).toEqual([{ n: 2 }]);
    const env = mysqlEngine.clientEnv(server.target(), req.login, req.password);
    const { stdout } = await run('mariadb', ['--no-defaults', '-u', env.MYSQL_USER!, '--protocol=TCP', '--batch', '--skip-column-names', '-e', 'SELECT CURRENT_USER()'], {
      env: { ...process.env, ...env },
    });
    expect(stdout.trim()).toBe(`${req.login}@%`);
    await session.revoke({ login: req.login });
  });
});

describe('admin', () => {
  it('checkPrivileges finds nothing wrong with the least-privileged admin on a server with the scheduler on', async () => {
    expect(await session.checkPrivileges()).toEqual([]);
    expect(await session.expiryChecks(app(), [])).toContainEqual(expect.objectContaining({ name: 'event scheduler', ok: true, detail: expect.stringMatching(/^ON: /) }));
  });

  it('a wrong admin password is an admin-auth error', async () => {
    const err = await mysqlEngine.connectAdmin(server.target(), 'wrong-password').catch((e) => e);
    expect(isServerError(err, 'admin-auth')).toBe(true);
    expect((err as Error).message).not.toContain('wrong-password');
  });

  it('a port nobody listens on is unreachable', async () => {
    const err = await mysqlEngine.connectAdmin(server.target({ port: 1 }), server.adminPassword).catch((e) => e);
    expect(isServerError(err, 'unreachable')).toBe(true);
  });

  it('checkGrants warns when nothing is granted in the default schema (USE app would be refused)', async () => {
    expect(await session.checkGrants([{ privileges: ['SELECT'], tables: [{ schema: app(), name: 'orders' }] }], [])).toEqual([]);
    const problems = await session.checkGrants([{ privileges: ['SELECT'], schema: 'reporting' }], []);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(`nothing in schema ${app()}`);
  });

  it('checkGrants names what does not exist', async () => {
    const problems = await session.checkGrants(
      [{ privileges: ['SELECT'], tables: [{ schema: app(), name: 'orders' }, { schema: app(), name: 'nope' }] }, { privileges: ['SELECT'], schema: 'nada' }],
      ['analytics_ro', 'ghost_role'],
    );
    expect(problems).toEqual([
      `table ${app()}.nope does not exist, or jitadmin holds nothing on it`,
      'schema nada does not exist',
      'role ghost_role does not exist',
      'MariaDB activates only one default role at login, and this role is a member of 2 (analytics_ro, ghost_role)',
    ]);
  });

  it('the general log holds no plaintext password of any minted login', async () => {
    const log = await readFile(server.generalLogFile, 'utf8');
    expect(log).toMatch(/CREATE USER/);
    expect(passwords.length).toBeGreaterThan(5);
    for (const pw of passwords) expect(log).not.toContain(pw);
  });
});

describe('a server with the event scheduler off', () => {
  it('doctor\'s expiry checks say so and what it means; the admin itself lacks nothing', async () => {
    await server.configure({ event_scheduler: 'OFF' });
    try {
      const s = await mysqlEngine.connectAdmin(server.target(), server.adminPassword);
      try {
        expect(await s.checkPrivileges()).toEqual([]);
        const [sched] = await s.expiryChecks(app(), []);
        expect(sched).toMatchObject({ name: 'event scheduler', ok: true, warning: true });
        expect(sched!.detail).toMatch(/^OFF: expired logins are dropped only by jit's reaper or `jit reap`/);
      } finally {
        await s.close();
      }
    } finally {
      await server.configure({ event_scheduler: 'ON' });
    }
  });
});
