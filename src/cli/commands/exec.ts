import type { Deps } from '../deps.js';
import { JitError, usageError } from '../../core/errors.js';
import { which } from '../../lifecycle/child.js';
import { splitAtDashDash } from '../operands.js';
import { runLeased } from '../../lifecycle/run-leased.js';
import type { MintFlags } from './uri.js';

const USAGE = 'usage: jit exec [DB] --role ROLE [--var NAME] -- COMMAND [ARGS…]';
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * `jit exec [DB] --role R -- CMD [ARGS…]`: exit with CMD's code. Everything after `--` is the
 * child's; the database before it may be left out (one database in the policy, or a prompt).
 */
export async function run(
  [database, rest]: [string | undefined, string[] | undefined],
  flags: MintFlags & { afterDashDash?: string[]; var?: string },
  deps: Deps,
): Promise<number> {
  const { database: db, args: child } = splitAtDashDash(database, rest, flags.afterDashDash, USAGE, 'child');
  if (child.length === 0) throw usageError('missing command to run', USAGE);
  const uriVar = flags.var;
  if (uriVar !== undefined && (!ENV_NAME.test(uriVar) || uriVar.startsWith('JIT_'))) {
    throw usageError(`--var ${JSON.stringify(uriVar)} is not a variable jit can set`, 'name one of letters, digits and _, not starting with a digit or JIT_, e.g. --var DB_URL');
  }
  return runLeased(
    {
      database: db,
      ...flags,
      command: 'exec',
      // A command that cannot run gets no login: check before minting, as a shell would (127).
      preflight: async () => {
        if (!which(child[0]!, deps.env)) {
          throw new JitError(`cannot run ${child[0]}: command not found`, { exitCode: 127, hint: 'check the command after --, and that it is on PATH' });
        }
      },
      child: async (minted) => ({ cmd: child[0]!, args: child.slice(1), ...(uriVar ? { env: { ...minted.clientEnv, [uriVar]: minted.uri } } : {}) }),
    },
    deps,
  );
}
