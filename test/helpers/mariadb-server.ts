/**
 * A throwaway MariaDB (DESIGN §7: apt mariadb-server 10.11) for tests: own data dir, port and
 * socket, run as the `mysql` OS user when started as root, with the fixtures every test relies
 * on and an admin account `jitadmin`@'%' holding exactly what jit needs. Missing binaries are
 * an error, never a skip: a green run must mean the engine was exercised.
 *
 * Name resolution stays on (no --skip-name-resolve) on purpose: a TCP client from 127.0.0.1 is
 * then matched as `localhost`, so an anonymous ''@'localhost' account shadows 'u'@'%' over TCP
 * exactly as on a stock server — the case the engine must cope with.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { execFileSync } from 'node:child_process';
import mysql from 'mysql2/promise';
import type { ServerTarget } from '../../src/engines/engine.js';

const run = promisify(execFile);

export const MARIADBD = process.env.JIT_MARIADBD ?? '/usr/sbin/mariadbd';
export const MARIADB_INSTALL_DB = process.env.JIT_MARIADB_INSTALL_DB ?? '/usr/bin/mariadb-install-db';

export interface MariadbServer {
  host: '127.0.0.1';
  port: number;
  /** The engine's admin: `jitadmin`@'%' with a password (not `jit_…`: that prefix is minted logins'). */
  adminUser: 'jitadmin';
  adminPassword: string;
  /** The schema holding the fixture tables. */
  database: 'app';
  dir: string;
  socket: string;
  /** The general log (every statement the server received), when started with generalLog. */
  generalLogFile: string;
  /** Wall time from mkdtemp to fixtures loaded. */
  startMs: number;
  /** A ServerTarget for the engine (tls disabled). */
  target(overrides?: Partial<ServerTarget>): ServerTarget;
  /** A connected root connection over the socket (superuser). The caller ends it. */
  admin(): Promise<mysql.Connection>;
  /** A connected client as any account, over TCP 127.0.0.1 with its password (default schema app; null for none). The caller ends it. */
  connectAs(user: string, password: string, database?: string | null): Promise<mysql.Connection>;
  stop(): Promise<void>;
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

/** What jit's admin needs (DESIGN §6): accounts, sessions, KILL, its ledger schema, and grantable data privileges. */
const adminSql = (password: string) => `
CREATE USER jitadmin@'%' IDENTIFIED BY '${password}';
GRANT CREATE USER, PROCESS, CONNECTION ADMIN ON *.* TO jitadmin@'%';
GRANT SELECT ON mysql.user TO jitadmin@'%';
GRANT ALL PRIVILEGES ON jit.* TO jitadmin@'%';
GRANT SELECT, INSERT, UPDATE, DELETE, REFERENCES, TRIGGER ON app.* TO jitadmin@'%' WITH GRANT OPTION;
GRANT SELECT, INSERT, UPDATE, DELETE ON reporting.* TO jitadmin@'%' WITH GRANT OPTION;
GRANT analytics_ro TO jitadmin@'%' WITH ADMIN OPTION;
GRANT \`o'neil\\\` TO jitadmin@'%' WITH ADMIN OPTION;
`;

export async function startMariadb(opts: StartMariadbOptions = {}): Promise<MariadbServer> {
  const started = Date.now();
  for (const bin of [MARIADBD, MARIADB_INSTALL_DB]) {
    if (!existsSync(bin)) {
      throw new Error(`MariaDB server binaries not found (${bin}): install them with 'apt-get install -y mariadb-server' (MariaDB 10.11)`);
    }
  }
  const asRoot = process.getuid?.() === 0;
  const dir = await mkdtemp(join(tmpdir(), 'jit-mariadb-'));
  const dataDir = join(dir, 'data');
  const socket = join(dir, 'mysqld.sock');
  const generalLogFile = join(dir, 'general.log');
  const errorLog = join(dir, 'error.log');
  const adminPassword = randomBytes(18).toString('base64url');
  if (asRoot) {
    const [uid, gid] = mysqlUser();
    await chown(dir, uid, gid);
  }
  const userArgs = asRoot ? ['--user=mysql'] : [];

  let child: ChildProcess | null = null;
  const stopSync = () => {
    child?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  // A crashed or interrupted run must leave neither a server nor its files behind.
  process.once('exit', stopSync);
  const stop = async () => {
    process.removeListener('exit', stopSync);
    const c = child;
    child = null;
    if (c && c.exitCode === null && c.signalCode === null) {
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGTERM');
      const timer = setTimeout(() => c.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };

  let port = 0;
  try {
    await run(MARIADB_INSTALL_DB, [
      '--no-defaults', `--datadir=${dataDir}`, ...userArgs,
      '--auth-root-authentication-method=normal', '--skip-test-db',
    ]);
    port = await freePort();
    child = spawn(MARIADBD, [
      '--no-defaults', ...userArgs, `--datadir=${dataDir}`, `--port=${port}`, '--bind-address=127.0.0.1',
      `--socket=${socket}`, `--pid-file=${join(dir, 'mysqld.pid')}`, `--log-error=${errorLog}`,
      `--event-scheduler=${opts.eventScheduler === false ? 'OFF' : 'ON'}`,
      ...(opts.generalLog ? ['--general-log=1', `--general-log-file=${generalLogFile}`] : []),
      ...(opts.skipNameResolve ? ['--skip-name-resolve'] : []),
      '--innodb-buffer-pool-size=32M', '--innodb-log-file-size=16M', '--innodb-flush-log-at-trx-commit=0', '--skip-log-bin',
    ], { stdio: 'ignore' });
    await waitReady(socket, child);
    const root = await rootConnection(socket);
    try {
      await root.query(MARIADB_FIXTURE_SQL);
      await root.query(adminSql(adminPassword));
    } finally {
      await root.end();
    }
  } catch (err) {
    await stop();
    throw new Error(`could not start a throwaway MariaDB: ${(err as Error).message}`, { cause: err });
  }

  return {
    host: '127.0.0.1',
    port,
    adminUser: 'jitadmin',
    adminPassword,
    database: 'app',
    dir,
    socket,
    generalLogFile,
    startMs: Date.now() - started,
    target: (overrides = {}) => ({
      engine: 'mysql', host: '127.0.0.1', port, database: 'app', tls: 'disable', adminUser: 'jitadmin', ...overrides,
    }),
    admin: () => rootConnection(socket),
    connectAs: async (user, password, database = 'app') => {
      const c = await mysql.createConnection({ host: '127.0.0.1', port, user, password, ...(database ? { database } : {}), connectTimeout: 10_000 });
      c.on('error', () => {}); // a killed connection must not crash the caller
      return c;
    },
    stop,
  };
}

async function rootConnection(socket: string): Promise<mysql.Connection> {
  const c = await mysql.createConnection({ socketPath: socket, user: 'root', multipleStatements: true });
  c.on('error', () => {});
  return c;
}

/** Ready when root can connect over the socket; a server that exits first is a failure at once. */
async function waitReady(socket: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 60_000;
  let last: unknown;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`mariadbd exited (${child.exitCode ?? child.signalCode}) before it was ready`);
    if (existsSync(socket)) {
      try {
        const c = await rootConnection(socket);
        await c.end();
        return;
      } catch (err) {
        last = err;
      }
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`mariadbd did not accept connections within 60 s: ${String((last as Error)?.message ?? last)}`);
}

/** As root the server runs as the `mysql` OS user that the apt package creates. */
function mysqlUser(): [number, number] {
  try {
    const id = (flag: string) => Number(execFileSync('id', [flag, 'mysql'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    return [id('-u'), id('-g')];
  } catch {
    throw new Error("running as root, but there is no 'mysql' OS user to run mariadbd as: apt-get install -y mariadb-server");
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no free port'))));
    });
  });
}
