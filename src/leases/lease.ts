import type { ServerTarget, LeaseMarker } from '../engines/engine.js';

/**
 * - intent: written before the login is created, so a crash leaves a record to clean up;
 * - active: the login exists and was handed out;
 * - revoking: revocation started but is not confirmed yet (the reaper retries).
 * A revoked lease is removed from the store; the audit trail keeps its history.
 */
export type LeaseState = 'intent' | 'active' | 'revoking';

/** Who holds a lease until its command ends: revoke when that process is gone. */
export interface LeaseOwner {
  pid: number;
  /** Process start marker so a recycled pid is not mistaken for the owner. */
  started: string;
}

/** A local lease: everything revocation needs, never a password. */
export interface Lease {
  id: string;
  /** Policy database name. */
  database: string;
  role: string;
  /** The minted login. */
  user: string;
  target: ServerTarget;
  /** Where the admin password comes from: `keychain`, `env:NAME` or `command:…`. */
  adminSource: string;
  requester: string;
  requesterHost: string;
  reason?: string;
  createdAt: string;
  expiresAt: string;
  /** createdAt + the role's max_ttl: `extend` never goes past it. */
  maxExpiresAt: string;
  /** Server clock minus local clock at mint, in ms. */
  clockSkewMs: number;
  state: LeaseState;
  /** The command that leases this (`connect`, `exec`, `uri`, `env`). */
  command: string;
  owner?: LeaseOwner;
  /** Last revocation failure, kept for `jit list` and the reaper's retries. */
  lastError?: string;
  /** The process revoking it: if that process dies mid-way, the reaper takes over. */
  revoker?: LeaseOwner;
  /** Why that revocation was started, so the reaper's retry is recorded with the same cause. */
  revokeCause?: import('./audit-log.js').RevokeCause;
  /** HMAC-SHA256 of the rest, keyed by `$JIT_HOME/lease.key` (lease-mac.ts). */
  mac?: string;
}

export function markerOf(lease: Lease): LeaseMarker {
  return {
    id: lease.id,
    database: lease.database,
    role: lease.role,
    requester: lease.requester,
    requester_host: lease.requesterHost,
    ...(lease.reason ? { reason: lease.reason } : {}),
    created_at: lease.createdAt,
    expires_at: lease.expiresAt,
    max_expires_at: lease.maxExpiresAt,
  };
}

/** The server's clock for this lease, from the local one. Lease times are server times. */
export function serverNow(lease: Lease, localNowMs: number): number {
  return localNowMs + lease.clockSkewMs;
}

/** Due when the server's clock has passed the expiry. */
export function isDue(lease: Lease, localNowMs: number): boolean {
  return serverNow(lease, localNowMs) >= Date.parse(lease.expiresAt);
}

/** A mint longer ago than any mint can take (10 s connect + 30 s statement timeout) that never finished. */
export const INTENT_GRACE_MS = 60_000;

export function isAbandonedIntent(lease: Lease, localNowMs: number): boolean {
  return lease.state === 'intent' && serverNow(lease, localNowMs) - Date.parse(lease.createdAt) > INTENT_GRACE_MS;
}
