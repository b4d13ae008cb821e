import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Lease } from '../leases/lease.js';
import type { LeaseScan, LeaseStore } from '../leases/lease-store.js';
import { checkPrivateDir } from '../core/fs-secure.js';

interface Entry {
  mtimeMs: number;
  size: number;
  ino: number;
  lease: Lease | null;
  reason?: string;
}

/**
 * LeaseStore.scan() for a process that scans again and again (the reaper): a file whose mtime,
 * size and inode are unchanged is not read again. Every lease write is a rename (a new inode),
 * so a rewritten lease is always seen. Files are read through LeaseStore.readLease(): the same
 * ownership, no-symlink and MAC checks as every other reader.
 */
export class LeaseFileCache {
  private readonly files = new Map<string, Entry>();
  /** Files read (not served from the cache) since creation: for tests. */
  reads = 0;

  constructor(private readonly store: LeaseStore) {}

  async scan(): Promise<LeaseScan> {
    let names: string[];
    try {
      await checkPrivateDir(this.store.root);
      await checkPrivateDir(this.store.dir);
      names = await readdir(this.store.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        this.files.clear();
        return { leases: [], unreadable: [] };
      }
      throw err;
    }
    const seen = new Set<string>();
    const leases: Lease[] = [];
    const unreadable: LeaseScan['unreadable'] = [];
    for (const name of names) {
      if (!name.endsWith('.json') || name.startsWith('.')) continue;
      const path = join(this.store.dir, name);
      const st = await lstat(path).catch(() => null);
      if (!st) continue; // removed between readdir and stat
      seen.add(name);
      let entry = this.files.get(name);
      if (!entry || entry.mtimeMs !== st.mtimeMs || entry.size !== st.size || entry.ino !== st.ino) {
        entry = { mtimeMs: st.mtimeMs, size: st.size, ino: st.ino, lease: null };
        try {
          this.reads++;
          entry.lease = await this.store.readLease(path);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
            seen.delete(name);
            continue;
          }
          entry.reason = err instanceof Error ? err.message : String(err);
        }
        this.files.set(name, entry);
      }
      if (entry.lease) leases.push(entry.lease);
      else unreadable.push({ id: name.slice(0, -'.json'.length), reason: entry.reason ?? 'unreadable' });
    }
    for (const name of this.files.keys()) if (!seen.has(name)) this.files.delete(name);
    return { leases: leases.sort((a, b) => a.createdAt.localeCompare(b.createdAt)), unreadable };
  }
}
