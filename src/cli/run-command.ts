import type { CommandSpec } from './command-table.js';
import type { Deps } from './deps.js';
import { ensureReaper } from '../reaper/reaper-client.js';

/** Run a parsed command (from commander or the fast parser): the same steps either way. */
export async function runCommand(spec: CommandSpec, args: unknown[], opts: Record<string, unknown>, deps: Deps): Promise<number> {
  const { run } = await spec.load!();
  const code = await run(args, opts, deps);
  // Any command restarts a reaper that died (kill -9, reboot) while leases remain; the ones that
  // deal with servers also hand it the admin credentials (a keychain prompt or an `op read` would
  // be a surprise from `jit audit`). Minting commands handed theirs already.
  if (!spec.mints) await ensureReaper(deps, { credentials: spec.servers === true }).catch(() => {});
  return code;
}
