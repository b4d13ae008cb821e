import { rm } from 'node:fs/promises';
import type { MintDeps } from './context.js';
import type { Engine } from '../engines/engine.js';
import { mintLease, type Minted } from './mint.js';
import { revokeLease } from './revoke.js';
import { watchExpiry } from './expiry-watch.js';
import { untilText } from '../core/time-text.js';
import { serverNow } from '../leases/lease.js';
import { adminSecretEnvNames, childEnv, refuseNesting, runChild } from './child.js';
import { currentOwner } from '../reaper/process-alive.js';
import { redact } from '../core/redact.js';

export interface LeasedRun {
  database?: string;
  role?: string;
  ttl?: string;
  reason?: string;
  only?: string;
  command: 'exec' | 'connect';
  /** Checked before anything is minted (e.g. that psql is installed). */
  preflight?: (engine: Engine) => Promise<void>;
  /** The child to run once the login exists. */
  child: (minted: Minted) => Promise<LeasedChild>;
}

export interface LeasedChild {
  cmd: string;
  args: string[];
  /** The login's client variables for this child; default: the engine's clientEnv. */
  env?: Record<string, string>;
  /** Files holding the password (a client option file), removed when the child exits. */
  files?: string[];
}

/**
 * Mint with this process as the lease's owner, run the child, revoke when it exits — also after
 * Ctrl-C in the child or a closed terminal; if this process dies first, the reaper sees its
 * owner gone and revokes. Returns the child's exit code unchanged.
 */
export async function runLeased(opts: LeasedRun, deps: MintDeps): Promise<number> {
  await refuseNesting(deps.env, deps.leases, deps.now());
  const minted: Minted = await mintLease({ ...opts, owner: currentOwner(), handout: opts.command }, deps);
  const { lease } = minted;
  let launched: LeasedChild;
  try {
    launched = await opts.child(minted);
  } catch (err) {
    await revokeLease(lease, deps, 'exit').catch(() => {});
    throw err;
  }
  const { cmd, args, files = [] } = launched;
  const until = untilText(lease.expiresAt, serverNow(lease, deps.now()), deps.now());
  deps.ui.notice(`lease ${lease.id}: ${lease.user} on ${lease.database} (${lease.role}) ${until}; revoked when ${opts.command === 'connect' ? 'you quit' : 'the command exits'}`);

  let code: number;
  let runError: unknown;
  const stopWatch = watchExpiry(lease, { now: deps.now, leases: deps.leases, notice: (t) => deps.ui.notice(t) });
  try {
    const env = childEnv(deps.env, minted, adminSecretEnvNames(await deps.policy()), launched.env, opts.command !== 'connect');
    code = await runChild(cmd, args, env, { interactive: opts.command === 'connect', terminal: deps.ui.terminal });
  } catch (err) {
    runError = err;
    code = 127;
  } finally {
    stopWatch();
    await Promise.all(files.map((f) => rm(f, { force: true }).catch(() => {})));
  }
  // From here on the terminal may be gone (SIGHUP): revoke first, then talk.
  const stopIgnoring = ignoreWhileRevoking();
  try {
    const res = await revokeLease(lease, deps, 'exit');
    deps.ui.notice(`revoked ${lease.user}${res.terminated ? ` (${res.terminated} session(s) ended)` : ''}`);
  } catch (err) {
    deps.ui.notice(`warning: ${redact(err instanceof Error ? err.message : String(err))}; the reaper retries until it is gone`);
  } finally {
    stopIgnoring();
  }
  if (runError) throw runError;
  return code;
}

/** A second Ctrl-C or a hang-up during revocation must not leave the login behind. */
function ignoreWhileRevoking(): () => void {
  const noop = () => {};
  const sigs: NodeJS.Signals[] = ['SIGINT', 'SIGHUP', 'SIGTERM', 'SIGQUIT'];
  sigs.forEach((s) => process.on(s, noop));
  return () => sigs.forEach((s) => process.off(s, noop));
}
