import type { Deps } from '../deps.js';
import { usageError } from '../../core/errors.js';
import { runLeased } from '../../lifecycle/run-leased.js';
import type { MintFlags } from './uri.js';

/** `jit exec DB --role R -- CMD [ARGS…]`: exit with CMD's code. */
export async function run([database, command]: [string | undefined, string[] | undefined], flags: MintFlags, deps: Deps): Promise<number> {
  const argv = command ?? [];
  if (!database || argv.length === 0) {
    throw usageError('missing command to run', 'usage: jit exec DB --role ROLE -- COMMAND [ARGS…]');
  }
  return runLeased({ database, ...flags, command: 'exec', child: () => ({ cmd: argv[0]!, args: argv.slice(1) }) }, deps);
}
