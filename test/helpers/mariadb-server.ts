/**
 * A throwaway MariaDB for tests (DESIGN §7), started by test/helpers/mariadb-cluster.js (the one
 * place that knows how), with the fixtures every test relies on and an admin account
 * `jitadmin`@'%' holding exactly what jit needs.
 */
import type mysql from 'mysql2/promise';
import type { ServerTarget } from '../../src/engines/engine.js';
import { readmeSqlBlock } from './readme-sql.js';
import { startMariadbCluster, type MariadbCluster } from './mariadb-cluster.js';

export { MARIADBD, MARIADB_INSTALL_DB } from './mariadb-cluster.js';

/** The cluster (test/helpers/mariadb-cluster.js) with the fixtures loaded, as tests use it. */
export interface MariadbServer extends Omit<MariadbCluster, 'connect'> {
  /** A ServerTarget for the engine (tls disabled). */
  target(overrides?: Partial<ServerTarget>): ServerTarget;
  /** A connected client as any account, over TCP 127.0.0.1 with its password (default schema app; null for none). The caller ends it. */
  connectAs(user: string, password: string, database?: string | null): Promise<mysql.Connection>;
}

export interface StartMariadbOptions {
  /** --general-log: every statement the server receives lands in generalLogFile. */
  generalLog?: boolean;
  /** --event-scheduler (default true). */
  eventScheduler?: boolean;
  /** --skip-name-resolve (default false; see the file comment). */
  skipNameResolve?: boolean;
}

/** Tables, hostile table names (`a``b`, `a"b`, `o'neil\`), roles (one hostile) every test can rely on. */
export const MARIADB_FIXTURE_SQL = `
CREATE DATABASE app;
CREATE TABLE app.orders (id int PRIMARY KEY, customer_id int, total decimal(10,2));
INSERT INTO app.orders VALUES (1, 1, 10.00), (2, 2, 25.50);
CREATE TABLE app.customers (id int PRIMARY KEY, name text);
INSERT INTO app.customers VALUES (1, 'Ada'), (2, 'Linus');
CREATE TABLE app.secrets (id int PRIMARY KEY, secret text);
INSERT INTO app.secrets VALUES (1, 'hunter2');
CREATE TABLE app.\`a\`\`b\` (id int);
INSERT INTO app.\`a\`\`b\` VALUES (42);
CREATE TABLE app.\`a"b\` (id int);
INSERT INTO app.\`a"b\` VALUES (42);
CREATE TABLE app.\`o'neil\\\` (id int);
INSERT INTO app.\`o'neil\\\` VALUES (42);
CREATE DATABASE reporting;
CREATE TABLE reporting.daily (day date PRIMARY KEY, total decimal(10,2));
INSERT INTO reporting.daily VALUES ('2024-01-01', 35.50);
CREATE TABLE reporting.weekly (week int PRIMARY KEY, total decimal(10,2));
CREATE ROLE analytics_ro;
GRANT SELECT ON reporting.daily TO analytics_ro;
CREATE ROLE \`o'neil\\\`;
GRANT SELECT ON app.customers TO \`o'neil\\\`;
`;

/**
 * README's MariaDB admin (the SQL block under the `jit:mariadb-admin-sql` anchor), run as written
 * but for the account's name (`jitadmin`, as every test knows it) and a real password: the admin
 * the tests run with holds what README says, plus the fixtures' grantable tables below.
 */
export function readmeMariadbAdminSql(password: string): string {
  return readmeSqlBlock('mariadb-admin-sql').replaceAll("jit_admin@'%'", "jitadmin@'%'").replace("'…'", `'${password}'`);
}

/** The admin's grantable rights on the fixtures beyond what README's block names. */
const ADMIN_GRANTS_SQL = `
GRANT SELECT, INSERT, UPDATE, DELETE, REFERENCES, TRIGGER ON app.* TO jitadmin@'%' WITH GRANT OPTION;
GRANT SELECT, INSERT, UPDATE, DELETE ON reporting.* TO jitadmin@'%' WITH GRANT OPTION;
GRANT \`o'neil\\\` TO jitadmin@'%' WITH ADMIN OPTION;
`;

export async function startMariadb(opts: StartMariadbOptions = {}): Promise<MariadbServer> {
  const started = Date.now();
  const c = await startMariadbCluster({
    fixtureSql: MARIADB_FIXTURE_SQL,
    makeAdminSql: readmeMariadbAdminSql,
    grantsSql: ADMIN_GRANTS_SQL,
    generalLog: opts.generalLog ?? false,
    eventScheduler: opts.eventScheduler ?? true,
    skipNameResolve: opts.skipNameResolve ?? false,
    prefix: 'jit-mariadb-',
  });
  return {
    host: '127.0.0.1',
    port: c.port,
    adminUser: 'jitadmin',
    adminPassword: c.adminPassword,
    database: 'app',
    dir: c.dir,
    socket: c.socket,
    generalLogFile: c.generalLogFile,
    startMs: Date.now() - started,
    target: (overrides = {}) => ({
      engine: 'mysql', host: '127.0.0.1', port: c.port, database: 'app', tls: 'disable', adminUser: 'jitadmin', ...overrides,
    }),
    admin: () => c.admin(),
    connectAs: (user, password, database = 'app') => c.connect(user, password, database),
    stop: c.stop,
  };
}
