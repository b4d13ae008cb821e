import type { Lease } from '../leases/lease.js';
import { registerSecret } from '../core/redact.js';
import { forgetAdminSecret } from '../lifecycle/admin-access.js';
import { credentialKey } from './protocol.js';

/**
 * The admin credentials jit commands handed over the socket, in memory only (DESIGN §4): one
 * per (policy database, admin source), never written anywhere.
 */
export class CredentialStore {
  private readonly secrets = new Map<string, string>();

  /** Keep secret under key; true when it is new or differs from the one held. */
  offer(key: string, secret: string): boolean {
    registerSecret(secret);
    const changed = this.secrets.get(key) !== secret;
    this.secrets.set(key, secret);
    return changed;
  }

  /** The credential for the lease's admin, if one was handed over. */
  for(lease: Lease): string | undefined {
    return this.secrets.get(credentialKey(lease.database, lease.adminSource));
  }

  /** The server refused it (rotated): drop it, and read the source again next time. */
  forget(lease: Lease): void {
    this.secrets.delete(credentialKey(lease.database, lease.adminSource));
    forgetAdminSecret(lease.database, lease.adminSource);
  }

  /** The keys held, never the secrets: the reply to `hello`. */
  keys(): string[] {
    return [...this.secrets.keys()];
  }
}
