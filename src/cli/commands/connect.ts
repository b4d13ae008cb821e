import type { Deps } from '../deps.js';
import { runtimeError } from '../../core/errors.js';
import { splitAtDashDash } from '../operands.js';
import { runLeased } from '../../lifecycle/run-leased.js';
import { which } from '../../lifecycle/child.js';
import type { MintFlags } from './uri.js';

const INSTALL_HINT: Record<string, string> = {
  psql: 'install the PostgreSQL client (apt install postgresql-client, brew install libpq, or the installer from postgresql.org)',
  mysql: 'install the MySQL or MariaDB client (apt install mariadb-client, brew install mysql-client)',
};

/**
 * `jit connect DB --role R [-- PSQL_ARGS…]`: psql with the credential in its environment (never
 * on its command line), revoked when it exits.
 */
export async function run(
  [database, rest]: [string | undefined, string[] | undefined],
  flags: MintFlags & { afterDashDash?: string[] },
  deps: Deps,
): Promise<number> {
  const usage = 'pass arguments for psql after --, e.g. jit connect DB --role R -- -c "select 1"';
  const { database: db, args: extra } = splitAtDashDash(database, rest, flags.afterDashDash, usage, 'refuse');
  let client = '';
  return runLeased(
    {
      database: db,
      ...flags,
      command: 'connect',
      preflight: async (engine) => {
        const found = which(engine.capabilities.client, deps.env);
        if (!found) throw runtimeError(`${engine.capabilities.client} is not installed or not on PATH`, INSTALL_HINT[engine.capabilities.client]);
        client = found;
      },
      child: (minted) => ({ cmd: client, args: [...minted.engine.clientArgs(minted.lease.target, minted.lease.user), ...extra] }),
    },
    deps,
  );
}
