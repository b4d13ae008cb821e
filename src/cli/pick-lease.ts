import type { Deps } from './deps.js';
import { canPrompt } from './io.js';
import { usageError } from '../core/errors.js';
import { isDue, serverNow } from '../leases/lease.js';
import { untilText } from '../core/time-text.js';

/**
 * `jit revoke` / `jit extend` without a lease: on a terminal, pick one of this machine's live
 * leases; elsewhere the usage error a script needs.
 */
export async function pickLease(deps: Deps, verb: 'revoke' | 'extend', usage: { message: string; hint: string }): Promise<string> {
  if (!canPrompt(deps.io)) throw usageError(usage.message, usage.hint);
  const now = deps.now();
  const live = (await deps.leases.list()).filter((l) => l.state === 'active' && !isDue(l, now));
  if (live.length === 0) throw usageError('no live lease on this machine', verb === 'revoke' ? 'jit list --all shows logins minted elsewhere' : 'mint one with jit uri or jit connect');
  const prompter = await deps.prompter();
  return prompter.select(
    `Lease to ${verb}`,
    live.map((l) => ({
      name: `${l.id}  ${l.user} on ${l.database} (${l.role}) ${untilText(l.expiresAt, serverNow(l, now), now)}`,
      value: l.id,
    })),
  );
}
