import type { Deps } from '../deps.js';
import { mintLease } from '../../lifecycle/mint.js';
import { leaseJson, notice, printData, printJson } from '../output.js';
import { untilText } from '../../core/time-text.js';
import { serverNow } from '../../leases/lease.js';

export interface MintFlags {
  role?: string;
  ttl?: string;
  reason?: string;
  only?: string;
}

/** `jit uri DB --role R`: exactly one line on stdout, the URI; the reaper revokes at expiry. */
export async function run([database]: [string | undefined], flags: MintFlags, deps: Deps): Promise<number> {
  const { lease, uri } = await mintLease({ database, ...flags, command: 'uri', handout: 'handout' }, deps);
  if (deps.io.json) printJson(deps.io, leaseJson(lease, uri));
  else printData(deps.io, uri);
  notice(deps.io, `lease ${lease.id}: ${lease.user} on ${lease.database} (${lease.role}) ${untilText(lease.expiresAt, serverNow(lease, deps.now()), deps.now())} — revoke early with: jit revoke ${lease.id}`);
  return 0;
}
