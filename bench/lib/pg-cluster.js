/**
 * A throwaway PostgreSQL 15 cluster for benchmarks: the plain-JS twin of
 * test/helpers/pg-server.ts (DESIGN §7). Own data dir, port and socket dir, fsync off, SCRAM on
 * TCP. As root, initdb and pg_ctl run as `postgres` (initdb refuses root).
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

export const PG_BIN = process.env.JIT_PG_BIN ?? '/usr/lib/postgresql/15/bin';

/**
 * Start a cluster, create database `app`, run `fixtureSql` in it.
 * @returns {Promise<{host: string, port: number, adminUser: string, adminPassword: string,
 *   database: string, dir: string, logFile: string, admin(db?: string): Promise<pg.Client>,
 *   stop(): Promise<void>}>}
 */
export async function startCluster({ fixtureSql = '' } = {}) {
  for (const bin of ['initdb', 'pg_ctl', 'postgres']) {
    if (!existsSync(join(PG_BIN, bin))) {
      throw new Error(`PostgreSQL server binaries not found (${join(PG_BIN, bin)}): apt-get install -y postgresql, or set JIT_PG_BIN`);
    }
  }
  const asRoot = process.getuid?.() === 0;
  const dir = await mkdtemp(join(tmpdir(), 'jit-bench-pg-'));
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

  let stopped = false;
  const stopSync = () => {
    if (!stopped) {
      stopped = true;
      spawnSync(...asPostgres('pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', 'stop']), { stdio: 'ignore' });
    }
    rmSync(dir, { recursive: true, force: true });
  };
  // A crashed or interrupted benchmark must leave neither a postmaster nor its files behind.
  process.once('exit', stopSync);
  const stop = async () => {
    process.removeListener('exit', stopSync);
    if (!stopped) {
      stopped = true;
      await pgCmd('pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', 'stop']).catch(() => {});
    }
    await rm(dir, { recursive: true, force: true });
  };

  let port = 0;
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
    ].join(' ');
    await pgCmd('pg_ctl', ['-D', dataDir, '-l', logFile, '-o', settings, '-w', '-t', '30', 'start']);
  } catch (err) {
    await stop();
    throw new Error(`could not start PostgreSQL for the benchmark: ${err.message}`, { cause: err });
  }

  const admin = async (database = 'app') => {
    const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password: adminPassword, database, connectionTimeoutMillis: 10_000 });
    client.on('error', () => {});
    await client.connect();
    return client;
  };
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
  return { host: '127.0.0.1', port, adminUser: 'postgres', adminPassword, database: 'app', dir, logFile, admin, stop };
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

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no free port'))));
    });
  });
}
