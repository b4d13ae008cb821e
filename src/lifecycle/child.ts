import { constants } from 'node:os';
import { accessSync, constants as fsc } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Minted } from './mint.js';
import { JitError, usageError } from '../core/errors.js';
import type { LeaseStore } from '../leases/lease-store.js';
import type { Policy } from '../policy/types.js';
import { isDue } from '../leases/lease.js';
import { inTerminalForeground } from './signals.js';
import { childProcess } from '../core/builtins.js';

/** Variables that would point a child at another database or another lease. */
const ALWAYS_STALE = ['DATABASE_URL', 'JIT_LEASE_ID', 'JIT_LEASE_EXPIRES_AT', 'JIT_DATABASE', 'JIT_ROLE'];

/**
 * Refuse to mint inside another jit session while its lease is alive: the inner lease would
 * shadow the outer one's variables. A JIT_LEASE_ID left over from `eval "$(jit env …)"` whose
 * lease is gone (revoked, expired) does not count.
 */
export async function refuseNesting(env: NodeJS.ProcessEnv, leases: LeaseStore, nowMs: number): Promise<void> {
  const id = env.JIT_LEASE_ID;
  if (!id) return;
  const lease = await leases.get(id).catch(() => null);
  if (!lease || isDue(lease, nowMs)) return;
  throw usageError(
    `already inside a jit session (lease ${id}, ${lease.user} on ${lease.database})`,
    `use its DATABASE_URL, or end it first: jit revoke ${id}`,
  );
}

/**
 * The child's environment: parent's, minus stale database variables and the variables the
 * policy reads admin passwords from (`env:NAME`: a migration must not see the admin's password),
 * plus this lease's. `withUri: false` (a client launched by `connect`, which gets the credential
 * its own way) leaves DATABASE_URL out: it holds the password, and the client does not read it.
 */
export function childEnv(
  parent: NodeJS.ProcessEnv,
  minted: Minted,
  secretNames: readonly string[] = [],
  clientVars: Record<string, string> = minted.clientEnv,
  withUri = true,
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...parent };
  for (const name of [...minted.engine.profile.clientEnvNames, ...ALWAYS_STALE, ...secretNames]) delete env[name];
  return {
    ...env,
    ...clientVars,
    ...(withUri ? { DATABASE_URL: minted.uri } : {}),
    JIT_LEASE_ID: minted.lease.id,
    JIT_LEASE_EXPIRES_AT: minted.lease.expiresAt,
    JIT_DATABASE: minted.lease.database,
    JIT_ROLE: minted.lease.role,
  };
}

/** Names of the environment variables any database's admin password is read from. */
export function adminSecretEnvNames(policy: Policy): string[] {
  return Object.values(policy.databases)
    .map((db) => db.admin.password)
    .filter((src) => src.startsWith('env:'))
    .map((src) => src.slice(4));
}

/** Find an executable on PATH (or a path with a slash), or null. */
export function which(cmd: string, env: NodeJS.ProcessEnv): string | null {
  const isExe = (p: string) => {
    try {
      accessSync(p, fsc.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  if (cmd.includes('/')) return isExe(cmd) ? cmd : null;
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir && isExe(join(dir, cmd))) return join(dir, cmd);
  }
  return null;
}

export interface ChildOptions {
  /** connect: psql handles Ctrl-C itself (cancels the query), so jit must not die of it. */
  interactive: boolean;
  /** Whether stdin is a terminal: then the terminal already signals the whole foreground group. */
  terminal: boolean;
}

/**
 * Run the child with inherited stdio and return its exit code unchanged (128 + signal number
 * when a signal ended it). jit stays alive until the child is gone, so it can revoke.
 */
export function runChild(cmd: string, args: string[], env: NodeJS.ProcessEnv, opts: ChildOptions): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = childProcess().spawn(cmd, args, { stdio: 'inherit', env });
    const handlers: Array<[NodeJS.Signals, () => void]> = [];
    const on = (sig: NodeJS.Signals, fn: () => void) => {
      handlers.push([sig, fn]);
      process.on(sig, fn);
    };
    const forward = (sig: NodeJS.Signals) => () => {
      if (child.exitCode === null && child.signalCode === null) child.kill(sig);
    };
    // In the terminal's foreground group, Ctrl-C/Ctrl-\ and a hang-up reach the child directly:
    // forwarding would deliver them twice (kill -INT from elsewhere is then not forwarded — the
    // price of telling the two apart). Elsewhere (CI, a pipeline, the background) they are
    // forwarded. connect always leaves them to psql, which cancels the query on Ctrl-C.
    // Asked at each signal: `jit exec … &` then `fg` moves it into the foreground.
    const foreground = () => inTerminalForeground() ?? opts.terminal;
    for (const sig of ['SIGINT', 'SIGQUIT', 'SIGHUP'] as NodeJS.Signals[]) {
      on(sig, opts.interactive ? () => {} : () => (foreground() ? undefined : forward(sig)()));
    }
    for (const sig of ['SIGTERM', 'SIGUSR1', 'SIGUSR2'] as NodeJS.Signals[]) on(sig, forward(sig));
    const cleanup = () => handlers.forEach(([sig, fn]) => process.off(sig, fn));
    child.on('error', (err: NodeJS.ErrnoException) => {
      cleanup();
      reject(
        new JitError(`cannot run ${cmd}: ${err.code === 'ENOENT' ? 'command not found' : err.message}`, {
          exitCode: err.code === 'ENOENT' ? 127 : 126,
          hint: 'check the command after --, and that it is on PATH',
        }),
      );
    });
    child.on('exit', (code, signal) => {
      cleanup();
      resolve(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0));
    });
  });
}
