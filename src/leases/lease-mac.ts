import { join } from 'node:path';
import { createOrReadPrivateFile, ensurePrivateDir } from '../core/fs-secure.js';
import { JitError } from '../core/errors.js';
import type { Lease } from './lease.js';
import { crypto } from '../core/builtins.js';

/**
 * A lease proves it is the user's own with an HMAC-SHA256 over its canonical JSON, keyed by
 * `$JIT_HOME/lease.key` (32 random bytes, 0600, created on first use). Whoever can write a lease
 * file but cannot read the key cannot make jit run a lease's `command:` source or log in to
 * a host of their choosing.
 */
export const LEASE_KEY_FILE = 'lease.key';

/** Keys sorted at every level, so the MAC does not depend on property order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export class LeaseKey {
  private key?: Promise<Buffer>;

  constructor(readonly root: string) {}

  private load(): Promise<Buffer> {
    return (this.key ??= (async () => {
      await ensurePrivateDir(this.root);
      const file = join(this.root, LEASE_KEY_FILE);
      const key = await createOrReadPrivateFile(file, crypto().randomBytes(32));
      if (key.length !== 32) {
        throw new JitError(`refusing to use ${file}: it holds ${key.length} bytes, not a 32-byte key`, {
          hint: `remove ${file} only when no lease is live (leases signed with it become untrusted)`,
        });
      }
      return key;
    })().catch((err) => {
      this.key = undefined;
      throw err;
    }));
  }

  async sign(lease: Lease): Promise<Lease> {
    const { mac: _drop, ...body } = lease;
    return { ...body, mac: crypto().createHmac('sha256', await this.load()).update(canonical(body)).digest('hex') };
  }

  /** Null when the lease is the user's own, else why it is not trusted. */
  async problem(lease: Lease): Promise<string | null> {
    if (!lease || typeof lease !== 'object') return 'not a lease object';
    const { mac, ...body } = lease;
    if (typeof mac !== 'string') return 'no MAC (written by an older jit, or not by this user)';
    const want = crypto().createHmac('sha256', await this.load()).update(canonical(body)).digest();
    const got = Buffer.from(mac, 'hex');
    if (got.length !== want.length || !crypto().timingSafeEqual(got, want)) return 'MAC does not match: the file was edited or forged';
    return null;
  }
}
