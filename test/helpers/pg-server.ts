/**
 * A throwaway PostgreSQL cluster for tests (DESIGN §7): own data dir, port and socket dir,
 * fsync off, SCRAM on TCP. As root, initdb and pg_ctl run as `postgres` (initdb refuses root).
 * Missing binaries are an error, never a skip: a green run must mean the engine was exercised.
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import pg from 'pg';
import type { ServerTarget } from '../../src/engines/engine.js';

const run = promisify(execFile);

export const PG_BIN = process.env.JIT_PG_BIN ?? '/usr/lib/postgresql/15/bin';

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
  stop(): Promise<void>;
}

export interface StartOptions {
  /** log_statement=all: every statement the server receives lands in logFile. */
  logStatements?: boolean;
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

const running = new Set<() => void>();
let exitHookInstalled = false;

export async function startPostgres(opts: StartOptions = {}): Promise<PgServer> {
  const started = Date.now();
  for (const bin of ['initdb', 'pg_ctl', 'postgres']) {
    if (!existsSync(join(PG_BIN, bin))) {
      throw new Error(
        `PostgreSQL server binaries not found (${join(PG_BIN, bin)}): install them with 'apt-get install -y postgresql' ` +
          `(PostgreSQL 15), or point JIT_PG_BIN at a bin directory holding initdb, pg_ctl and postgres`,
      );
    }
  }
  const asRoot = process.getuid?.() === 0;
  const dir = await mkdtemp(join(tmpdir(), 'jit-pg-'));
  const dataDir = join(dir, 'data');
  const logFile = join(dir, 'postgres.log');
  const pwFile = join(dir, 'pwfile');
  const adminPassword = randomBytes(18).toString('base64url');
  await writeFile(pwFile, adminPassword + '\n', { mode: 0o600 });
  if (asRoot) {
    const [uid, gid] = postgresUser();
    await chown(dir, uid, gid);
    await chown(pwFile, uid, gid);
  }
  // initdb and pg_ctl refuse to run as root.
  const pgCmd = (bin: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', join(PG_BIN, bin), ...args]) : run(join(PG_BIN, bin), args);

  let port = 0;
  const stop = async () => {
    running.delete(stopSync);
    await pgCmd('pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', 'stop']).catch(() => {});
    await rm(dir, { recursive: true, force: true });
  };
  const stopSync = () => {
    const args = ['-D', dataDir, '-m', 'immediate', 'stop'];
    if (asRoot) spawnSync('runuser', ['-u', 'postgres', '--', join(PG_BIN, 'pg_ctl'), ...args], { stdio: 'ignore' });
    else spawnSync(join(PG_BIN, 'pg_ctl'), args, { stdio: 'ignore' });
  };
  try {
    await pgCmd('initdb', [
      '-D', dataDir, '-U', 'postgres', `--pwfile=${pwFile}`,
      '--auth-host=scram-sha-256', '--auth-local=trust',
      '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions',
    ]);
    await rm(pwFile, { force: true });
    port = await freePort();
    const settings = [
      `-p ${port}`, `-k ${dir}`,
      '-c listen_addresses=127.0.0.1', '-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off',
      '-c shared_buffers=16MB', '-c max_connections=100', '-c autovacuum=off', '-c logging_collector=off',
      ...(opts.logStatements ? ['-c log_statement=all'] : []),
    ].join(' ');
    running.add(stopSync);
    installExitHook();
    await pgCmd('pg_ctl', ['-D', dataDir, '-l', logFile, '-o', settings, '-w', '-t', '30', 'start']);
  } catch (err) {
    await stop();
    throw new Error(`could not start PostgreSQL for tests: ${(err as Error).message}`, { cause: err });
  }

  const connect = async (user: string, password: string, database: string) => {
    const client = new pg.Client({ host: '127.0.0.1', port, user, password, database, connectionTimeoutMillis: 10_000 });
    client.on('error', () => {}); // a terminated backend must not crash the test worker
    await client.connect();
    return client;
  };
  const server: PgServer = {
    host: '127.0.0.1',
    port,
    adminUser: 'postgres',
    adminPassword,
    database: 'app',
    dataDir,
    logFile,
    startMs: 0,
    target: (overrides = {}) => ({
      engine: 'postgres', host: '127.0.0.1', port, database: 'app', tls: 'disable', adminUser: 'postgres', ...overrides,
    }),
    admin: (database = 'app') => connect('postgres', adminPassword, database),
    connectAs: (user, password, database = 'app') => connect(user, password, database),
    stop,
  };
  try {
    const boot = await connect('postgres', adminPassword, 'postgres');
    await boot.query('CREATE DATABASE app').finally(() => boot.end());
    const app = await server.admin();
    await app.query(FIXTURE_SQL).finally(() => app.end());
  } catch (err) {
    await stop();
    throw err;
  }
  server.startMs = Date.now() - started;
  return server;
}

/** As root the cluster runs as the `postgres` OS user that the apt package creates. */
function postgresUser(): [number, number] {
  try {
    const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    return [id('-u'), id('-g')];
  } catch {
    throw new Error("running as root, but there is no 'postgres' OS user to run initdb as: install it with 'apt-get install -y postgresql'");
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** A crashed test run must not leave postmasters behind. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const stopSync of running) stopSync();
  });
}
