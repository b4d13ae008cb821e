import type { Lease } from '../leases/lease.js';
import type { LeaseStore } from '../leases/lease-store.js';
import { serverNow } from '../leases/lease.js';
import { formatDuration } from '../core/duration.js';

/** How long before expiry `connect` and `exec` warn, each where the lease is long enough for it. */
export const WARN_BEFORE_MS = [5 * 60_000, 60_000, 10_000] as const;
const CHECK_EVERY_MS = 1_000;

/** The warnings a lease with `remainingMs` left gets: those with at least as much time again before them. */
export function plannedWarnings(remainingMs: number): number[] {
  return WARN_BEFORE_MS.filter((w) => remainingMs >= 2 * w);
}

export interface ExpiryWatchDeps {
  now(): number;
  leases: LeaseStore;
  notice(text: string): void;
}

/**
 * While a `connect`/`exec` child runs: say on stderr, before expiry, how long the login has left
 * and how to extend it, and say when it expired (the reaper and the server then end its sessions,
 * which would otherwise show only as a dead psql prompt or "password authentication failed").
 * Reads the lease again at each check, so a `jit extend` from another terminal is followed.
 * Checked against the wall clock every second (timers stop while a laptop sleeps). Returns stop.
 */
export function watchExpiry(first: Lease, deps: ExpiryWatchDeps): () => void {
  let lease = first;
  let planned = plannedWarnings(Date.parse(lease.expiresAt) - serverNow(lease, deps.now()));
  const said = new Set<number>();
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    void check().finally(() => (busy = false));
  }, CHECK_EVERY_MS);
  timer.unref();
  const stop = () => clearInterval(timer);

  async function check(): Promise<void> {
    const current = await deps.leases.get(lease.id).catch(() => null);
    if (!current) {
      // The reaper revokes within a second of expiry and removes the file; before expiry it was
      // `jit revoke` or `revoke --all` from here or elsewhere.
      if (Date.parse(lease.expiresAt) - serverNow(lease, deps.now()) <= 0) deps.notice(expired(lease));
      else deps.notice(`lease ${lease.id} was revoked (jit revoke): ${lease.user} no longer works`);
      return stop();
    }
    if (current.expiresAt !== lease.expiresAt) {
      // Extended: plan again for the new expiry.
      lease = current;
      planned = plannedWarnings(Date.parse(lease.expiresAt) - serverNow(lease, deps.now()));
      said.clear();
    }
    const left = Date.parse(lease.expiresAt) - serverNow(lease, deps.now());
    if (left <= 0) {
      deps.notice(expired(lease));
      return stop();
    }
    const due = planned.filter((w) => left <= w && !said.has(w));
    if (due.length === 0) return;
    for (const w of due) said.add(w);
    deps.notice(`lease ${lease.id} expires in ${formatDuration(left)}; to keep working: jit extend ${lease.id} --ttl 15m`);
  }
  return stop;
}

const expired = (lease: Lease) => `lease ${lease.id} expired: ${lease.user} is revoked and its sessions end; mint a new login to go on`;
