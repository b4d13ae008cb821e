import type { Lease } from '../leases/lease.js';
import type { RevokeCause } from '../leases/audit-log.js';
import { adminKeyOf, type LeaseRevokeOutcome } from '../lifecycle/revoke.js';
import type { CredentialStore } from './reaper-credentials.js';
import type { LeaseView } from './reaper-leases.js';
import type { RetryBook, RetryPolicy } from './reaper-retry.js';
import { dueCause } from './reaper-due.js';

/** Servers (adminKeyOf) revoked on at once. */
const CONCURRENCY = 8;

export interface SchedulerOptions {
  view: LeaseView;
  credentials: CredentialStore;
  retry: RetryBook;
  /** The retry rules for the lease's server. */
  retryPolicy: (lease: Lease) => RetryPolicy;
  /** Revoke leases of one server through one admin session (revokeLeases). */
  revoke: (items: Array<{ lease: Lease; cause: RevokeCause }>, secret: string | undefined) => Promise<LeaseRevokeOutcome[]>;
  log: (line: string) => void;
  concurrency?: number;
}

/**
 * Revocations the reaper has started and those waiting. The due leases of one server go
 * together, through one admin session (one SCRAM login) and revokeMany; `concurrency` bounds
 * the servers handled at once. The queue is refilled every tick and drained as revocations
 * finish, so a burst of expiries is not rationed to `concurrency` per tick.
 */
export class RevokeScheduler {
  private queue: Array<[Lease, RevokeCause]> = [];
  private readonly serversInFlight = new Set<string>();
  private readonly leasesInFlight = new Set<string>();
  private halted = false;
  private readonly concurrency: number;

  constructor(private readonly o: SchedulerOptions) {
    this.concurrency = o.concurrency ?? CONCURRENCY;
  }

  /** Whether a revocation of this lease is under way. */
  busy(id: string): boolean {
    return this.leasesInFlight.has(id);
  }

  /** No revocation under way. */
  get idle(): boolean {
    return this.leasesInFlight.size === 0;
  }

  /** What is due now replaces what was waiting; start what the concurrency allows. */
  schedule(due: Array<[Lease, RevokeCause]>): void {
    this.queue = due;
    this.pump();
  }

  /** Start nothing more (the reaper is leaving); what is under way finishes. */
  halt(): void {
    this.halted = true;
  }

  private pump(): void {
    while (!this.halted && this.serversInFlight.size < this.concurrency && this.queue.length > 0) {
      const i = this.queue.findIndex(([l]) => !this.serversInFlight.has(adminKeyOf(l)));
      if (i < 0) break;
      const key = adminKeyOf(this.queue[i]![0]);
      const batch = this.queue.filter(([l]) => adminKeyOf(l) === key && !this.leasesInFlight.has(l.id));
      this.queue = this.queue.filter(([l]) => adminKeyOf(l) !== key);
      if (batch.length > 0) void this.revokeBatch(key, batch);
    }
  }

  private async revokeBatch(key: string, queued: Array<[Lease, RevokeCause]>): Promise<void> {
    const { view, credentials, retry, log } = this.o;
    this.serversInFlight.add(key);
    for (const [l] of queued) this.leasesInFlight.add(l.id);
    try {
      const items: Array<{ lease: Lease; cause: RevokeCause }> = [];
      for (const [q, cause] of queued) {
        const fresh = await view.fresh(q);
        if (fresh && dueCause(fresh, Date.now())) items.push({ lease: fresh, cause });
      }
      if (items.length === 0) return;
      const outcomes = await this.o
        .revoke(items, credentials.for(items[0]!.lease))
        .catch((err: unknown) => items.map(({ lease, cause }) => ({ lease, cause, error: err, result: undefined })));
      for (const { lease, cause, result, error } of outcomes) {
        if (!result) {
          this.failed(lease, error);
          continue;
        }
        retry.forget(lease.id);
        view.markRevoked(lease.id);
        log(`revoked ${lease.user} (lease ${lease.id}, ${cause}, ${result.terminated} session(s) ended)`);
      }
    } finally {
      for (const [l] of queued) this.leasesInFlight.delete(l.id);
      this.serversInFlight.delete(key);
      view.invalidate();
      this.pump();
    }
  }

  private failed(lease: Lease, err: unknown): void {
    const policy = this.o.retryPolicy(lease);
    // A rotated admin password: forget the one handed over and read the source again next time.
    if (policy.forgetCredential(err)) this.o.credentials.forget(lease);
    const attempts = this.o.retry.failed(lease.id, err, policy, Date.now());
    this.o.log(`revoke ${lease.user} (lease ${lease.id}) failed, attempt ${attempts}: ${err instanceof Error ? err.message : String(err)}`);
  }
}
