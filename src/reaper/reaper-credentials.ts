import type { Lease } from '../leases/lease.js';
import { registerSecret } from '../core/redact.js';
import { forgetAdminSecret, retainAdminSecrets } from '../lifecycle/admin-access.js';
import { credentialKey } from './protocol.js';

/**
 * The admin credentials jit commands handed over the socket, in memory only (DESIGN §4): one
 * per (policy database, admin source), never written anywhere.
 */
export class CredentialStore {
  private readonly secrets = new Map<string, string>();
  /** When each was last handed over (Date.now()). */
  private readonly offeredAt = new Map<string, number>();

  /** Keep secret under key; true when it is new or differs from the one held. */
  offer(key: string, secret: string, now = Date.now()): boolean {
    registerSecret(secret);
    const changed = this.secrets.get(key) !== secret;
    this.secrets.set(key, secret);
    this.offeredAt.set(key, now);
    return changed;
  }

  /**
   * Drop the credentials no lease needs any more (the last lease of that admin is gone): an idle
   * reaper, lingering for the next mint, holds no admin secret, and the next hand-off brings one.
   * `leases` were read at `readAt`: a credential handed over since then may belong to a lease
   * that read did not see yet, and stays. Returns the keys dropped.
   */
  retainFor(leases: Lease[], readAt: number): string[] {
    const needed = new Set(leases.map((l) => credentialKey(l.database, l.adminSource)));
    // What this process read from a source itself (the keychain), for leases it saw, goes the same way.
    retainAdminSecrets(leases);
    const dropped: string[] = [];
    for (const key of [...this.secrets.keys()]) {
      if (needed.has(key) || (this.offeredAt.get(key) ?? 0) >= readAt) continue;
      this.secrets.delete(key);
      this.offeredAt.delete(key);
      dropped.push(key);
    }
    return dropped;
  }

  /** The credential for the lease's admin, if one was handed over. */
  for(lease: Lease): string | undefined {
    return this.secrets.get(credentialKey(lease.database, lease.adminSource));
  }

  /** The server refused it (rotated): drop it, and read the source again next time. */
  forget(lease: Lease): void {
    this.secrets.delete(credentialKey(lease.database, lease.adminSource));
    this.offeredAt.delete(credentialKey(lease.database, lease.adminSource));
    forgetAdminSecret(lease.database, lease.adminSource);
  }

  /** The keys held, never the secrets: the reply to `hello`. */
  keys(): string[] {
    return [...this.secrets.keys()];
  }
}
