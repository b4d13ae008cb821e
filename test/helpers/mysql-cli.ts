/**
 * The built CLI against the run's MariaDB (see servers.ts, mariadb-scope.ts): a policy for a
 * scope's schema copy, and what e2e tests ask the server about minted logins (accounts at any
 * host, ledger rows, sessions), read as root over the socket.
 */
import mysql from 'mysql2/promise';
import type { MariadbScope } from './mariadb-scope.js';

/** Roles of the MariaDB test policy (under `roles:`): the names and shapes of testPolicy's for PostgreSQL. */
const MYSQL_ROLES = `readonly:
  ttl: 15m
  max_ttl: 1h
  grants:
    - privileges: [SELECT]
      tables: [orders, customers]
writer:
  ttl: 10m
  max_ttl: 30m
  grants:
    - privileges: [SELECT, INSERT, UPDATE]
      tables: [orders]
short:
  ttl: 5s
  max_ttl: 1m
  grants:
    - privileges: [SELECT]
      tables: [orders]
`;

/** One database entry (`name`) on the scope's MariaDB; the admin password from `pwEnv`. */
export function mysqlDatabaseEntry(m: Pick<MariadbScope, 'port' | 'database' | 'adminUser'>, name = 'testdb', pwEnv = 'JIT_TEST_ADMIN_PW', port = m.port): string {
  return `  ${name}:
    engine: mysql
    host: 127.0.0.1
    port: ${port}
    database: ${m.database}
    tls: disable
    admin:
      user: ${m.adminUser}
      password: env:${pwEnv}
    roles:
${MYSQL_ROLES.replace(/^(?=.)/gm, '      ')}`;
}

/** The test policy: one MariaDB database `testdb` (the scope's schema), like testPolicy for PostgreSQL. */
export function mysqlPolicy(m: Pick<MariadbScope, 'port' | 'database' | 'adminUser'>, name = 'testdb'): string {
  return `version: 1\ndatabases:\n${mysqlDatabaseEntry(m, name)}`;
}

type Row = Record<string, unknown>;

async function withRoot<T>(m: MariadbScope, fn: (c: mysql.Connection) => Promise<T>): Promise<T> {
  const c = await m.admin();
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => c.destroy());
  }
}

/** Hosts of every account named `login` (any host, '' included). */
export function accountHosts(m: MariadbScope, login: string): Promise<string[]> {
  return withRoot(m, async (c) => ((await c.query('SELECT Host AS h FROM mysql.user WHERE User = ? ORDER BY Host', [login]))[0] as Row[]).map((r) => String(r.h)));
}

/** Minted accounts on the server (`jit_…`, any host): all in an exclusive scope, else this scope's requester's. */
export function jitAccounts(m: MariadbScope): Promise<string[]> {
  const prefix = m.exclusive ? 'jit\\_%' : `jit\\_${m.requester.replace(/[\\%_]/g, (x) => '\\' + x)}\\_%`;
  return withRoot(m, async (c) => ((await c.query('SELECT User AS u FROM mysql.user WHERE User LIKE ? ORDER BY User', [prefix]))[0] as Row[]).map((r) => String(r.u)));
}

/** The ledger row of a login, if any. */
export function ledgerRow(m: MariadbScope, login: string): Promise<Row | undefined> {
  return withRoot(m, async (c) => {
    const [rows] = await c.query("SELECT * FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'jit' AND TABLE_NAME = 'leases'");
    if ((rows as Row[]).length === 0) return undefined;
    return ((await c.query('SELECT * FROM jit.leases WHERE login = ?', [login]))[0] as Row[])[0];
  });
}

/** Processlist threads of a login (what revoke must KILL). */
export function threadsOf(m: MariadbScope, login: string): Promise<Row[]> {
  return withRoot(m, async (c) => (await c.query('SELECT ID AS id, COMMAND AS command, INFO AS info FROM information_schema.PROCESSLIST WHERE USER = ?', [login]))[0] as Row[]);
}

/** The parts of a `mysql://` URI as a client takes them. */
export function uriParts(uri: string): { user: string; password: string; host: string; port: number; database: string } {
  const u = new URL(uri);
  return {
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    host: u.hostname,
    port: Number(u.port),
    database: decodeURIComponent(u.pathname.slice(1)),
  };
}

/** A fresh login with a URI's credentials over TCP: true when the server lets it in and answers. */
export async function mysqlCanLogin(uri: string): Promise<boolean> {
  const p = uriParts(uri);
  let c: mysql.Connection | undefined;
  try {
    c = await mysql.createConnection({ host: p.host, port: p.port, user: p.user, password: p.password, database: p.database, connectTimeout: 5_000 });
    c.on('error', () => {});
    await c.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await c?.end().catch(() => c?.destroy());
  }
}

/** An open session as the URI's login (the caller ends it); a killed session must not crash the test. */
export async function mysqlSession(uri: string): Promise<mysql.Connection> {
  const p = uriParts(uri);
  const c = await mysql.createConnection({ host: p.host, port: p.port, user: p.user, password: p.password, database: p.database, connectTimeout: 5_000 });
  c.on('error', () => {});
  await c.query('SELECT 1');
  return c;
}

/** Whether a session still answers a query. */
export async function mysqlSessionAlive(c: mysql.Connection): Promise<boolean> {
  try {
    await c.query('SELECT 1');
    return true;
  } catch {
    return false;
  }
}
