import type { Deps } from '../deps.js';
import { mintLease } from '../../lifecycle/mint.js';
import { leaseJson, notice, printData, printJson, relative } from '../output.js';
import { spin } from '../spinner.js';
import { serverNow } from '../../leases/lease.js';

export interface MintFlags {
  role?: string;
  ttl?: string;
  reason?: string;
  only?: string;
}

/** Mint and hand out with a spinner; the reaper revokes at expiry. */
export async function mintWithSpinner(database: string | undefined, flags: MintFlags, deps: Deps, command: 'uri' | 'env') {
  const spinner = await spin(deps.io, `Creating a temporary login on ${database ?? 'the database'}…`);
  try {
    const minted = await mintLease({ database, ...flags, command, handout: 'handout' }, deps);
    spinner.stop();
    return minted;
  } catch (err) {
    spinner.stop();
    throw err;
  }
}

/** `jit uri DB --role R`: exactly one line on stdout, the URI. */
export async function run([database]: [string | undefined], flags: MintFlags, deps: Deps): Promise<number> {
  const { lease, uri } = await mintWithSpinner(database, flags, deps, 'uri');
  if (deps.io.json) printJson(deps.io, leaseJson(lease, uri));
  else printData(deps.io, uri);
  notice(deps.io, `lease ${lease.id}: ${lease.user} on ${lease.database} (${lease.role}), expires ${relative(lease.expiresAt, serverNow(lease, deps.now()))} — revoke early with: jit revoke ${lease.id}`);
  return 0;
}
