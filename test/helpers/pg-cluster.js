/**
 * A throwaway PostgreSQL cluster (DESIGN §7; 15 from apt by default, any version through `bin`), shared by the tests (test/helpers/pg-server.ts
 * wraps it) and the benchmarks: own data dir, port and socket dir, fsync off, SCRAM on TCP. As
 * root, initdb and pg_ctl run as `postgres` (initdb refuses root). Missing binaries are an
 * error, never a skip: a green run must mean the engine was exercised.
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from './free-port.js';

const run = promisify(execFile);

export const PG_BIN = process.env.JIT_PG_BIN ?? '/usr/lib/postgresql/15/bin';

/**
 * Start a cluster, create database `app`, run `fixtureSql` in it. `bin` is the directory holding
 * initdb, pg_ctl and postgres (default PG_BIN: PostgreSQL 15). `logStatements` sets
 * log_statement=all (every statement lands in logFile); `prefix` names the temp directory;
 * `maxConnections` sets max_connections (default 100); `settings` are more `-c name=value`
 * server settings (e.g. shared_preload_libraries for pg_cron).
 * `pause()`/`resume()` stop and start the same cluster on the same port and socket directory.
 * Types: pg-cluster.d.ts.
 */
export async function startCluster({ fixtureSql = '', logStatements = false, prefix = 'jit-pg-', maxConnections = 100, bin: binDir = PG_BIN, settings: extra = {} } = {}) {
  const PG_BIN = binDir;
  for (const bin of ['initdb', 'pg_ctl', 'postgres']) {
    if (!existsSync(join(PG_BIN, bin))) {
      throw new Error(
        `PostgreSQL server binaries not found (${join(PG_BIN, bin)}): install them with 'apt-get install -y postgresql' ` +
          `(PostgreSQL 15), or point JIT_PG_BIN at a bin directory holding initdb, pg_ctl and postgres`,
      );
    }
  }
  const asRoot = process.getuid?.() === 0;
  const dir = await mkdtemp(join(tmpdir(), prefix));
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
  const asPostgres = (bin, args) =>
    asRoot ? ['runuser', ['-u', 'postgres', '--', join(PG_BIN, bin), ...args]] : [join(PG_BIN, bin), args];
  const pgCmd = (bin, args) => run(...asPostgres(bin, args));

  let running = false;
  const stopSync = () => {
    if (running) spawnSync(...asPostgres('pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', 'stop']), { stdio: 'ignore' });
    running = false;
    rmSync(dir, { recursive: true, force: true });
  };
  // A crashed or interrupted run must leave neither a postmaster nor its files behind.
  process.once('exit', stopSync);
  const stop = async () => {
    process.removeListener('exit', stopSync);
    if (running) await pgCmd('pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', 'stop']).catch(() => {});
    running = false;
    await rm(dir, { recursive: true, force: true });
  };

  let port = 0;
  const start = async () => {
    const settings = [
      `-p ${port}`, `-k ${dir}`,
      '-c listen_addresses=127.0.0.1', '-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off',
      '-c shared_buffers=16MB', `-c max_connections=${Math.floor(maxConnections)}`, '-c autovacuum=off', '-c logging_collector=off',
      ...(logStatements ? ['-c log_statement=all'] : []),
      ...Object.entries(extra).map(([name, value]) => `-c ${name}=${value}`),
    ].join(' ');
    await pgCmd('pg_ctl', ['-D', dataDir, '-l', logFile, '-o', settings, '-w', '-t', '30', 'start']);
    running = true;
  };
  try {
    await pgCmd('initdb', [
      '-D', dataDir, '-U', 'postgres', `--pwfile=${pwFile}`,
      '--auth-host=scram-sha-256', '--auth-local=trust',
      '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions',
    ]);
    await rm(pwFile, { force: true });
    port = await freePort();
    await start();
  } catch (err) {
    await stop();
    throw new Error(`could not start a throwaway PostgreSQL: ${err.message}`, { cause: err });
  }

  const connect = async (user, password, database) => {
    const client = new pg.Client({ host: '127.0.0.1', port, user, password, database, connectionTimeoutMillis: 10_000 });
    client.on('error', () => {}); // a terminated backend must not crash the caller
    await client.connect();
    return client;
  };
  const admin = (database = 'app') => connect('postgres', adminPassword, database);
  try {
    const boot = await admin('postgres');
    await boot.query('CREATE DATABASE app').finally(() => boot.end());
    if (fixtureSql) {
      const app = await admin();
      await app.query(fixtureSql).finally(() => app.end());
    }
  } catch (err) {
    await stop();
    throw err;
  }
  // Fast shutdown: sessions are disconnected, as when a real server goes down.
  const pause = async () => {
    await pgCmd('pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', 'stop']);
    running = false;
  };
  return { host: '127.0.0.1', port, adminUser: 'postgres', adminPassword, database: 'app', dir, dataDir, logFile, admin, connect, pause, resume: start, stop };
}

/** As root the cluster runs as the `postgres` OS user that the apt package creates. */
function postgresUser() {
  try {
    const id = (flag) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    return [id('-u'), id('-g')];
  } catch {
    throw new Error("running as root, but there is no 'postgres' OS user to run initdb as: apt-get install -y postgresql");
  }
}
