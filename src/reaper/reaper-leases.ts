import { stat } from 'node:fs/promises';
import type { Lease } from '../leases/lease.js';
import type { LeaseStore } from '../leases/lease-store.js';
import { adminKeyOf } from '../lifecycle/revoke.js';
import { LeaseFileCache } from './lease-cache.js';

/** Without a directory change, lease files are stat'ed (and changed ones re-read) this often. */
const FULL_SCAN_MS = 30_000;

export interface LeaseViewOptions {
  store: LeaseStore;
  log: (line: string) => void;
  /** The logins that exist on the server of this lease (the same for every lease of its adminKeyOf). */
  presentLogins: (lease: Lease) => Promise<Set<string>>;
}

/**
 * The leases the reaper acts on: the lease files, and what it keeps believing when they fail
 * it. A file that became unreadable is acted on from its last trusted copy; a file that
 * disappeared while its login lives is kept (an orphan) until the server says the login is
 * gone; all of them also after the whole state directory was removed.
 */
export class LeaseView {
  // The leases of the last listing, and those kept after the whole state directory disappeared
  // (an `rm -rf` of $JIT_HOME): the logins behind them still exist and still have to go.
  private known = new Map<string, Lease>();
  // Re-reads only the lease files that changed (idle with 1000 leases, reading them all every
  // few seconds cost 3% of a core).
  private readonly files: LeaseFileCache;
  private readonly orphans = new Map<string, Lease>();
  private readonly warned = new Set<string>();
  private readonly verifying = new Set<string>();
  private readonly revoked = new Set<string>();
  private cached: { mtimeMs: number; leases: Lease[]; at: number } | null = null;

  constructor(private readonly o: LeaseViewOptions) {
    this.files = new LeaseFileCache(o.store);
  }

  /** Every lease to act on now. */
  async read(now: number): Promise<Lease[]> {
    const st = await stat(this.o.store.dir).catch(() => null);
    if (!st) {
      this.keepVanished(new Set());
      this.known = new Map();
      this.cached = null;
      return this.actionableOrphans();
    }
    // Every lease write is a rename into the directory, which moves its mtime; a file edited in
    // place (by hand) is noticed by the full stat pass every FULL_SCAN_MS.
    if (!(this.cached && this.cached.mtimeMs === st.mtimeMs && now - this.cached.at < FULL_SCAN_MS)) {
      const scan = await this.files.scan();
      // A file emptied, truncated or edited (its MAC no longer matches) is not believed, but the
      // login it named still exists: keep acting on the last copy this reaper read and trusted.
      const kept: Lease[] = [];
      for (const u of scan.unreadable) {
        const last = this.known.get(u.id);
        if (last && !this.revoked.has(u.id)) {
          kept.push(last);
          if (!this.warned.has(u.id)) this.o.log(`lease ${u.id} (${last.user}) became unreadable (${u.reason}); revoking it from the last good copy`);
        } else if (!this.warned.has(u.id)) this.o.log(`lease file ${u.id}.json cannot be used (${u.reason}); \`jit reap\` finds its login on the server`);
        this.warned.add(u.id);
      }
      this.cached = { mtimeMs: st.mtimeMs, leases: [...scan.leases, ...kept], at: now };
    }
    const onDisk = this.cached.leases;
    this.keepVanished(new Set(onDisk.map((l) => l.id)));
    this.known = new Map(onDisk.map((l) => [l.id, l]));
    for (const id of this.orphans.keys()) if (this.revoked.has(id) || this.known.has(id)) this.orphans.delete(id);
    return this.orphans.size ? [...onDisk, ...this.actionableOrphans()] : onDisk;
  }

  /**
   * Orphans the server has not yet been asked about are not acted on: the usual reason a file
   * vanishes is that `jit exec`/`connect`/`revoke` revoked the login and then removed it, and the
   * owner it names is dead by then, so it would look due and be revoked (and audited) twice.
   */
  private actionableOrphans(): Lease[] {
    return [...this.orphans.values()].filter((l) => !this.verifying.has(l.id));
  }

  /**
   * The lease as it is now, for a revocation queued a while ago: a `jit revoke` may have removed
   * its file, or `jit extend` moved it since. An orphan has no file: it is what was kept.
   */
  async fresh(lease: Lease): Promise<Lease | null> {
    return this.orphans.has(lease.id) ? lease : await this.o.store.get(lease.id).catch(() => lease);
  }

  /** Leases whose files vanished and that are kept (or still being checked with the server). */
  get orphaned(): boolean {
    return this.orphans.size > 0;
  }

  /** The lease's login is gone: never act on it again. */
  markRevoked(id: string): void {
    this.revoked.add(id);
    this.known.delete(id);
    this.orphans.delete(id);
  }

  /** Read the lease files again next time, whatever their directory's mtime says. */
  invalidate(): void {
    this.cached = null;
  }

  private keepVanished(present: Set<string>): void {
    const lost: Lease[] = [];
    for (const [id, l] of this.known) {
      if (present.has(id) || this.revoked.has(id) || this.orphans.has(id)) continue;
      this.orphans.set(id, l);
      lost.push(l);
    }
    if (lost.length > 0) this.verifyVanished(lost);
  }

  // A lease file that disappeared while its login was live: `jit revoke` removes it only once
  // the server confirmed the login gone, so ask the server. Until it answers the lease is kept
  // (an orphan); a login still there (the file deleted by hand, by a leased child, or with all
  // of $JIT_HOME) is revoked at its expiry as if the file were there.
  private verifyVanished(lost: Lease[]): void {
    const byServer = new Map<string, Lease[]>();
    for (const l of lost) {
      if (this.verifying.has(l.id)) continue;
      this.verifying.add(l.id);
      byServer.set(adminKeyOf(l), [...(byServer.get(adminKeyOf(l)) ?? []), l]);
    }
    for (const group of byServer.values()) {
      void this.o
        .presentLogins(group[0]!)
        .then((present) => {
          for (const l of group) {
            if (present.has(l.user)) {
              this.o.log(`lease file of ${l.user} (lease ${l.id}) disappeared while the login still exists; revoking it at its expiry`);
              continue;
            }
            this.revoked.add(l.id);
            this.orphans.delete(l.id);
          }
        })
        .catch((err: unknown) => this.o.log(`could not check ${group.map((l) => l.user).join(', ')} on the server (${err instanceof Error ? err.message : String(err)}); keeping them until expiry`))
        .finally(() => {
          for (const l of group) this.verifying.delete(l.id);
        });
    }
  }
}
