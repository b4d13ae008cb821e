import type { Deps } from '../deps.js';
import { parseDuration, formatDuration, MIN_TTL_MS } from '../../core/duration.js';
import { usageError } from '../../core/errors.js';
import { isDue, markerOf, serverNow } from '../../leases/lease.js';
import { leaseFields } from '../../leases/audit-log.js';
import { withAdmin } from '../../lifecycle/admin-access.js';
import { adminRefOf } from '../../lifecycle/lease-ref.js';
import { notice, printJson, relative } from '../output.js';
import { untilText } from '../../core/time-text.js';
import { pickLease } from '../pick-lease.js';

/** `jit extend LEASE --ttl D`: new expiry = now + D, never past created_at + max_ttl. */
export async function run([given]: [string | undefined], flags: { ttl: string }, deps: Deps): Promise<number> {
  const ttlMs = parseDuration(flags.ttl, '--ttl');
  if (ttlMs < MIN_TTL_MS) throw usageError(`--ttl ${flags.ttl} is below the 5s minimum`, 'ask for at least 5s');
  const id = given ?? (await pickLease(deps, 'extend', { message: 'missing lease id', hint: 'jit extend LEASE_ID --ttl D (see jit list)' }));
  const lease = await deps.leases.find(id);
  if (!lease) throw usageError(`no lease "${id}" on this machine`, 'see `jit list`');
  if (lease.state !== 'active') throw usageError(`lease ${lease.id} is ${lease.state}`, 'only an active lease can be extended');
  const now = serverNow(lease, deps.now());
  // Expired is final: moving VALID UNTIL out again would bring a dead login back to life.
  if (isDue(lease, deps.now())) {
    throw usageError(`lease ${lease.id} (${lease.user}) expired ${relative(lease.expiresAt, now)}; expired is final`, 'mint a new login (jit uri / jit connect)');
  }
  const expiresAt = now + ttlMs;
  const max = Date.parse(lease.maxExpiresAt);
  if (expiresAt > max) {
    const room = Math.max(0, max - now);
    throw usageError(
      `--ttl ${flags.ttl} would end after the role's max_ttl (lease ${lease.id} may last ${untilText(lease.maxExpiresAt, now, deps.now())})`,
      room >= MIN_TTL_MS ? `ask for at most ${formatDuration(room)}` : 'the lease is at its max_ttl; mint a new one',
    );
  }
  const updated = { ...lease, expiresAt: new Date(expiresAt).toISOString() };
  await withAdmin(adminRefOf(lease), deps, ({ session }) => session.extend({ login: lease.user, expiresAt: new Date(expiresAt), marker: markerOf(updated) }));
  await deps.leases.save(updated);
  await deps.audit.append({ event: 'extend', ...leaseFields(updated), ttl: formatDuration(ttlMs), actor: `${deps.requester.user}@${deps.requester.host}` });
  if (deps.io.json) printJson(deps.io, { id: updated.id, database: updated.database, role: updated.role, user: updated.user, expires_at: updated.expiresAt });
  else notice(deps.io, `lease ${lease.id} (${lease.user}) now lasts ${untilText(updated.expiresAt, now, deps.now())}`);
  return 0;
}
