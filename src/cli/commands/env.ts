import type { Deps } from '../deps.js';
import { dotenvQuote, fishQuote, shellQuote } from '../../core/shell-quote.js';
import { leaseJson, notice, printData, printJson, relative } from '../output.js';
import type { MintFlags } from './uri.js';
import { mintLease } from '../../lifecycle/mint.js';
import { serverNow } from '../../leases/lease.js';

/**
 * `jit env DB --role R [--format sh|fish|dotenv|json]`: variables safe for `eval "$(jit env …)"`
 * (sh) or `jit env … --format fish | source` (fish).
 */
export async function run([database]: [string | undefined], flags: MintFlags & { format?: string }, deps: Deps): Promise<number> {
  const { lease, uri, clientEnv } = await mintLease({ database, ...flags, command: 'env', handout: 'handout' }, deps);
  const vars: Record<string, string> = { DATABASE_URL: uri, ...clientEnv, JIT_LEASE_ID: lease.id };
  const format = deps.io.json ? 'json' : (flags.format ?? 'sh');
  if (format === 'json') printJson(deps.io, { ...leaseJson(lease, uri), env: vars });
  else if (format === 'fish') printData(deps.io, Object.entries(vars).map(([k, v]) => `set -gx ${k} ${fishQuote(v)}`).join('\n'));
  else if (format === 'dotenv') printData(deps.io, Object.entries(vars).map(([k, v]) => `${k}=${dotenvQuote(v)}`).join('\n'));
  else printData(deps.io, Object.entries(vars).map(([k, v]) => `export ${k}=${shellQuote(v)}`).join('\n'));
  notice(deps.io, `lease ${lease.id}: ${lease.user} on ${lease.database} (${lease.role}), expires ${relative(lease.expiresAt, serverNow(lease, deps.now()))}`);
  return 0;
}
