/**
 * A throwaway MariaDB (DESIGN §7: apt mariadb-server 10.11), shared by the tests
 * (test/helpers/mariadb-server.ts wraps it) and the benchmarks: own data dir, port and socket,
 * run as the `mysql` OS user when started as root, an admin account `jitadmin`@'%' holding what
 * jit needs. Missing binaries are an error, never a skip: a green run must mean the engine was
 * exercised. Types: mariadb-cluster.d.ts.
 *
 * Name resolution stays on (no --skip-name-resolve) unless asked: a TCP client from 127.0.0.1 is
 * then matched as `localhost`, so an anonymous ''@'localhost' account shadows 'u'@'%' over TCP
 * exactly as on a stock server — the case the engine must cope with.
 */
import { spawn, execFile, execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { chown, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';
import { freePort } from './free-port.js';

const run = promisify(execFile);

export const MARIADBD = process.env.JIT_MARIADBD ?? '/usr/sbin/mariadbd';
export const MARIADB_INSTALL_DB = process.env.JIT_MARIADB_INSTALL_DB ?? '/usr/bin/mariadb-install-db';

/**
 * What jit's admin needs (DESIGN §6): accounts, sessions, KILL, its ledger schema, and grantable
 * data privileges on `app`.
 */
const adminSql = (password) => `
CREATE USER jitadmin@'%' IDENTIFIED BY '${password}';
GRANT CREATE USER, PROCESS, CONNECTION ADMIN ON *.* TO jitadmin@'%';
GRANT SELECT ON mysql.user TO jitadmin@'%';
GRANT SELECT ON mysql.roles_mapping TO jitadmin@'%';
GRANT SELECT ON mysql.db TO jitadmin@'%';
GRANT SELECT ON mysql.tables_priv TO jitadmin@'%';
GRANT SELECT ON mysql.columns_priv TO jitadmin@'%';
GRANT SELECT ON mysql.procs_priv TO jitadmin@'%';
GRANT SELECT ON mysql.global_priv TO jitadmin@'%';
GRANT ALL PRIVILEGES ON jit.* TO jitadmin@'%';
GRANT SELECT, INSERT, UPDATE, DELETE, REFERENCES, TRIGGER ON app.* TO jitadmin@'%' WITH GRANT OPTION;
`;

/**
 * Start a server; as root over the socket run `fixtureSql`, make sure database `app` exists,
 * create the admin `jitadmin` (`makeAdminSql(password)`, default: what jit needs on `app`), then
 * run `grantsSql` (more for the admin, on objects the fixtures made).
 * `generalLog` logs every statement received to generalLogFile; `eventScheduler` (default true);
 * `skipNameResolve` (default false, see above); `prefix` names the temp directory.
 */
export async function startMariadbCluster({ fixtureSql = '', makeAdminSql = adminSql, grantsSql = '', generalLog = false, eventScheduler = true, skipNameResolve = false, prefix = 'jit-mariadb-' } = {}) {
  const started = Date.now();
  for (const bin of [MARIADBD, MARIADB_INSTALL_DB]) {
    if (!existsSync(bin)) {
      throw new Error(`MariaDB server binaries not found (${bin}): install them with 'apt-get install -y mariadb-server' (MariaDB 10.11)`);
    }
  }
  const asRoot = process.getuid?.() === 0;
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const dataDir = join(dir, 'data');
  const socket = join(dir, 'mysqld.sock');
  const generalLogFile = join(dir, 'general.log');
  const errorLog = join(dir, 'error.log');
  // Its own tmpdir: with the shared /tmp, a bootstrap once failed on a '#sql-temptable-…' file
  // that was gone when it came to remove it (1051 Unknown table 'mysql.tmp_user_sys').
  const tmp = join(dir, 'tmp');
  const adminPassword = randomBytes(18).toString('base64url');
  await mkdir(tmp);
  if (asRoot) {
    const [uid, gid] = mysqlUser();
    await chown(dir, uid, gid);
    await chown(tmp, uid, gid);
  }
  const userArgs = asRoot ? ['--user=mysql'] : [];

  let child = null;
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
      '--auth-root-authentication-method=normal', '--skip-test-db', `--tmpdir=${tmp}`,
    ]);
    port = await freePort();
    child = spawn(MARIADBD, [
      '--no-defaults', ...userArgs, `--datadir=${dataDir}`, `--port=${port}`, '--bind-address=127.0.0.1',
      `--socket=${socket}`, `--pid-file=${join(dir, 'mysqld.pid')}`, `--log-error=${errorLog}`, `--tmpdir=${tmp}`,
      `--event-scheduler=${eventScheduler === false ? 'OFF' : 'ON'}`,
      ...(generalLog ? ['--general-log=1', `--general-log-file=${generalLogFile}`] : []),
      ...(skipNameResolve ? ['--skip-name-resolve'] : []),
      '--innodb-buffer-pool-size=32M', '--innodb-log-file-size=16M', '--innodb-flush-log-at-trx-commit=0', '--skip-log-bin',
    ], { stdio: 'ignore' });
    await waitReady(socket, child);
    const root = await rootConnection(socket);
    try {
      if (fixtureSql.trim()) await root.query(fixtureSql);
      await root.query('CREATE DATABASE IF NOT EXISTS app');
      await root.query(makeAdminSql(adminPassword));
      if (grantsSql.trim()) await root.query(grantsSql);
    } finally {
      await root.end();
    }
  } catch (err) {
    await stop();
    throw new Error(`could not start a throwaway MariaDB: ${err.message}`, { cause: err });
  }

  const connect = async (user, password, database = 'app') => {
    const c = await mysql.createConnection({ host: '127.0.0.1', port, user, password, ...(database ? { database } : {}), connectTimeout: 10_000 });
    c.on('error', () => {}); // a killed connection must not crash the caller
    return c;
  };
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
    admin: () => rootConnection(socket),
    connect,
    stop,
  };
}

async function rootConnection(socket) {
  const c = await mysql.createConnection({ socketPath: socket, user: 'root', multipleStatements: true });
  c.on('error', () => {});
  return c;
}

/** Ready when root can connect over the socket; a server that exits first is a failure at once. */
async function waitReady(socket, child) {
  const deadline = Date.now() + 60_000;
  let last;
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
  throw new Error(`mariadbd did not accept connections within 60 s: ${String(last?.message ?? last)}`);
}

/** As root the server runs as the `mysql` OS user that the apt package creates. */
function mysqlUser() {
  try {
    const id = (flag) => Number(execFileSync('id', [flag, 'mysql'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    return [id('-u'), id('-g')];
  } catch {
    throw new Error("running as root, but there is no 'mysql' OS user to run mariadbd as: apt-get install -y mariadb-server");
  }
}
