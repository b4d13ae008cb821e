import { isServerError } from '../core/errors.js';

const MAX_BACKOFF_MS = 5_000;

/**
 * How the reaper retries a revocation that failed: an engine whose errors call for other
 * rules (a lock that clears slowly, a kind of refusal that never heals) provides its own.
 */
export interface RetryPolicy {
  /** How long to wait before the next attempt, after `attempts` failed ones (1 or more) ending with err. */
  nextDelay(attempts: number, err: unknown): number;
  /** Whether err means the admin credential held for the server is wrong (rotated) and must be read again. */
  forgetCredential(err: unknown): boolean;
}

/**
 * Jittered exponential backoff, 250 ms × 2^attempts capped at 5 s, the upper half of it at
 * random so reapers of many machines do not knock on a recovering server together.
 */
export const serverRetryPolicy: RetryPolicy = {
  nextDelay(attempts) {
    const base = Math.min(MAX_BACKOFF_MS, 250 * 2 ** attempts);
    return base / 2 + Math.random() * (base / 2);
  },
  forgetCredential: (err) => isServerError(err, 'admin-auth'),
};

/** Failed attempts per lease, and when each may be tried again. */
export class RetryBook {
  private readonly entries = new Map<string, { attempts: number; nextAt: number }>();

  /** Whether the lease is still backing off at nowMs. */
  waiting(id: string, nowMs: number): boolean {
    const r = this.entries.get(id);
    return r !== undefined && nowMs < r.nextAt;
  }

  /** Count a failed attempt and set when the next may start; returns the attempts so far. */
  failed(id: string, err: unknown, policy: RetryPolicy, nowMs: number): number {
    const r = this.entries.get(id) ?? { attempts: 0, nextAt: 0 };
    r.attempts += 1;
    r.nextAt = nowMs + policy.nextDelay(r.attempts, err);
    this.entries.set(id, r);
    return r.attempts;
  }

  /** Try this lease at once next time (revoked, or handed over again). */
  forget(id: string): void {
    this.entries.delete(id);
  }

  /** Try everything at once next time (a new credential arrived). */
  clear(): void {
    this.entries.clear();
  }
}
