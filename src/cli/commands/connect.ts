import type { Deps } from '../deps.js';
import { runtimeError } from '../../core/errors.js';
import { splitAtDashDash } from '../operands.js';
import { runLeased } from '../../lifecycle/run-leased.js';
import { which } from '../../lifecycle/child.js';
import type { MintFlags } from './uri.js';

/**
 * `jit connect DB --role R [-- CLIENT_ARGS…]`: psql or mariadb/mysql with the credential in its
 * environment or a 0600 option file (never on its command line), revoked when it exits.
 */
export async function run(
  [database, rest]: [string | undefined, string[] | undefined],
  flags: MintFlags & { afterDashDash?: string[] },
  deps: Deps,
): Promise<number> {
  // `jit connect prod-db readonly`: the role typed without --role is the usual slip.
  const second = flags.afterDashDash === undefined && !flags.role ? rest?.[0] : undefined;
  const usage = second !== undefined && database !== undefined && /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(second)
    ? `a role goes after --role: jit connect ${database} --role ${second}`
    : 'pass arguments for the client (psql, mariadb) after --, e.g. jit connect DB --role R -- -c "select 1"';
  const { database: db, args: extra } = splitAtDashDash(database, rest, flags.afterDashDash, usage, 'refuse');
  let client = '';
  return runLeased(
    {
      database: db,
      ...flags,
      command: 'connect',
      preflight: async (engine) => {
        const { binaries, installHint } = engine.profile.client;
        const found = binaries.map((b) => which(b, deps.env)).find(Boolean);
        if (!found) throw runtimeError(`${binaries.join(' or ')} is not installed or not on PATH`, installHint);
        client = found;
      },
      child: async ({ engine, lease, password }) => {
        const launch = await engine.clientLaunch(lease.target, lease.user, password, deps.stateDir, { leaseId: lease.id, userEnv: deps.env });
        return { cmd: client, args: [...launch.args, ...extra], env: launch.env, files: launch.files };
      },
    },
    deps,
  );
}
