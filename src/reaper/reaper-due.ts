import type { Lease } from '../leases/lease.js';
import type { RevokeCause } from '../leases/audit-log.js';
import { isAbandonedIntent, isDue } from '../leases/lease.js';
import { isOwnerAlive } from './process-alive.js';

/** Why a lease must go now, or null. */
export function dueCause(lease: Lease, nowMs: number): RevokeCause | null {
  if (isDue(lease, nowMs)) return 'expiry';
  if (lease.owner && !isOwnerAlive(lease.owner)) return 'exit';
  if (isAbandonedIntent(lease, nowMs)) return 'crash-recovery';
  const abandoned = lease.revoker !== undefined && !isOwnerAlive(lease.revoker);
  if (lease.state === 'revoking' && (lease.lastError || abandoned)) return lease.revokeCause ?? 'manual';
  return null;
}
