import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PgServer } from './pg-server.js';
import { killProcessesOfHome } from './processes.js';

export const JIT_BIN = fileURLToPath(new URL('../../bin/jit.js', import.meta.url));

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  input?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

/** A state directory, a policy pointing at a test server, and a way to run the built jit binary. */
export interface JitWorld {
  home: string;
  dir: string;
  policyFile: string;
  env: NodeJS.ProcessEnv;
  run(args: string[], opts?: RunOptions): Promise<RunResult>;
  start(args: string[], opts?: RunOptions): ChildProcess;
  /** Stop this world's reaper (if any) and remove its files. */
  cleanup(): Promise<void>;
}

/** The test policy: one database `testdb` on the given server (its scope's database), admin password from the environment. */
export function testPolicy(pg: Pick<PgServer, 'port' | 'database'>, name = 'testdb'): string {
  return `version: 1
databases:
  ${name}:
    engine: postgres
    host: 127.0.0.1
    port: ${pg.port}
    database: ${pg.database}
    tls: disable
    admin:
      user: postgres
      password: env:JIT_TEST_ADMIN_PW
    roles:
      readonly:
        ttl: 15m
        max_ttl: 1h
        grants:
          - privileges: [SELECT]
            tables: [public.orders, public.customers]
      writer:
        ttl: 10m
        max_ttl: 30m
        grants:
          - privileges: [SELECT, INSERT, UPDATE]
            tables: [public.orders]
      reporting:
        grants:
          - privileges: [SELECT]
            schema: reporting
      analyst:
        member_of: [analytics_ro]
      support:
        max_ttl: 30m
        require_reason: true
        grants:
          - privileges: [SELECT]
            tables: [public.customers]
      short:
        ttl: 5s
        max_ttl: 1m
        grants:
          - privileges: [SELECT]
            tables: [public.orders]
`;
}

/**
 * A state directory and policy for `pg`, requesting as the scope's requester; cleaned up by
 * cleanup() or, at the latest, when the server's scope ends.
 */
/**
 * `revoke --all` and `reap` act on every jit login of a server, other files' included: in a
 * shared scope they would revoke what files running beside this one minted.
 */
export function serverWide(args: string[]): boolean {
  const ops = args.slice(0, args.includes('--') ? args.indexOf('--') : args.length);
  return ops[0] === 'reap' || (ops[0] === 'revoke' && ops.includes('--all'));
}

export async function makeWorld(
  pg: Pick<PgServer, 'port' | 'database' | 'adminPassword'> & Partial<Pick<PgServer, 'requester' | 'track' | 'exclusive'>>,
  opts: { policy?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<JitWorld> {
  const dir = await mkdtemp(join(tmpdir(), 'jit-world-'));
  const home = join(dir, 'state');
  const policyFile = join(dir, 'jit.yaml');
  await writeFile(policyFile, opts.policy ?? testPolicy(pg));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: dir,
    LANG: 'C.UTF-8',
    JIT_HOME: home,
    JIT_POLICY: policyFile,
    JIT_TEST_ADMIN_PW: pg.adminPassword,
    JIT_REQUESTER: pg.requester ?? 'tester',
    NO_COLOR: '1',
    // A reaper with nothing left leaves after 3 s here (60 s by default), so tests see it go.
    JIT_REAPER_LINGER: '3s',
    ...opts.env,
  };
  const start = (args: string[], o: RunOptions = {}) => {
    if (pg.exclusive === false && serverWide(args)) {
      throw new Error(`jit ${args.join(' ')} acts on the whole server: run it in an exclusive scope, or revoke this world's leases by id`);
    }
    return spawn(process.execPath, [JIT_BIN, ...args], { env: { ...env, ...o.env }, cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
  };
  const run = (args: string[], o: RunOptions = {}) =>
    new Promise<RunResult>((resolve, reject) => {
      const child = start(args, o);
      let stdout = '';
      let stderr = '';
      child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 30_000);
      child.on('error', reject);
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        resolve({ code: code ?? 128 + (signal === 'SIGKILL' ? 9 : 15), stdout, stderr });
      });
      child.stdin!.end(o.input ?? '');
    });
  const cleanup = async () => {
    await stopReaper(home);
    await killProcessesOfHome(home);
    await rm(dir, { recursive: true, force: true });
  };
  const world = { home, dir, policyFile, env, run, start, cleanup };
  pg.track?.(world);
  return world;
}

/**
 * End a state directory's reaper (tests only): ask it to stop, which it honours only once no
 * lease is left, and SIGKILL it after a moment otherwise.
 */
export async function stopReaper(home: string): Promise<void> {
  const { ask } = await import('../../src/reaper/reaper-client.js');
  let pid: number;
  try {
    const reply = await ask(home, { type: 'stop' }, 1000);
    if (!reply.ok) return;
    pid = reply.pid;
  } catch {
    return;
  }
  const alive = () => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  for (let i = 0; i < 20 && alive(); i++) await new Promise((r) => setTimeout(r, 100));
  if (alive()) process.kill(pid, 'SIGKILL');
}

/**
 * Roles on the server that are members of the marker role `jit`: all of them in an exclusive
 * scope, else those named for this scope's requester (`jit_<requester>_…`), since files running
 * beside this one mint and revoke their own.
 */
export async function jitRoles(pg: PgServer): Promise<string[]> {
  const c = await pg.admin();
  try {
    const r = await c.query(
      `SELECT m.rolname FROM pg_roles m JOIN pg_auth_members am ON am.member = m.oid JOIN pg_roles j ON j.oid = am.roleid WHERE j.rolname = 'jit' ` +
        `AND ($1 OR starts_with(m.rolname, $2)) ORDER BY 1`,
      [pg.exclusive, `jit_${pg.requester}_`],
    );
    return r.rows.map((x: { rolname: string }) => x.rolname);
  } finally {
    await c.end();
  }
}

export async function roleExists(pg: PgServer, name: string): Promise<boolean> {
  const c = await pg.admin();
  try {
    return (await c.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [name])).rowCount === 1;
  } finally {
    await c.end();
  }
}

export async function waitFor(cond: () => Promise<boolean> | boolean, timeoutMs: number, stepMs = 100): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await cond()) return true;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  return cond();
}

export async function leaseFiles(home: string): Promise<string[]> {
  return readdir(join(home, 'leases')).catch(() => []);
}
