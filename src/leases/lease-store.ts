import { readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Lease } from './lease.js';
import { ensurePrivateDir, writeFileAtomic } from '../core/fs-secure.js';
import { statePaths } from './paths.js';

/**
 * One JSON file per lease under `$JIT_HOME/leases/`: every write is an atomic rename of that
 * lease's own file, so concurrent jit processes and the reaper never need a lock.
 */
/** What scan() found: leases it could read, and files it could not. */
export interface LeaseScan {
  leases: Lease[];
  unreadable: Array<{ id: string; reason: string }>;
}

export class LeaseStore {
  readonly dir: string;

  constructor(readonly root: string) {
    this.dir = statePaths(root).leases;
  }

  async init(): Promise<void> {
    await ensurePrivateDir(this.root);
    await ensurePrivateDir(this.dir);
  }

  private file(id: string): string {
    return join(this.dir, `${id}.json`);
  }

  /**
   * `durable` flushes to disk first: needed for the intent record, which must survive anything.
   * Later updates may be lost to a power cut without harm: the earlier version is still revoked.
   */
  async save(lease: Lease, durable = false): Promise<void> {
    await this.init();
    await writeFileAtomic(this.file(lease.id), `${JSON.stringify(lease, null, 2)}\n`, durable);
  }

  async get(id: string): Promise<Lease | null> {
    if (!/^[a-z0-9]+$/.test(id)) return null;
    try {
      return JSON.parse(await readFile(this.file(id), 'utf8')) as Lease;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  async remove(id: string): Promise<void> {
    await unlink(this.file(id)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }

  /** Every readable lease on this machine, oldest first. */
  async list(): Promise<Lease[]> {
    return (await this.scan()).leases;
  }

  /**
   * Every lease file: the readable ones, oldest first, and the ids of those present but not
   * readable as a lease (emptied, truncated, edited), which the reaper must not forget.
   */
  async scan(): Promise<LeaseScan> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { leases: [], unreadable: [] };
      throw err;
    }
    const leases: Lease[] = [];
    const unreadable: LeaseScan['unreadable'] = [];
    for (const name of names) {
      if (!name.endsWith('.json') || name.startsWith('.')) continue;
      try {
        leases.push(JSON.parse(await readFile(join(this.dir, name), 'utf8')) as Lease);
      } catch (err) {
        // a file removed between readdir and read is simply gone
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        unreadable.push({ id: name.slice(0, -'.json'.length), reason: err instanceof Error ? err.message : String(err) });
      }
    }
    return { leases: leases.sort((a, b) => a.createdAt.localeCompare(b.createdAt)), unreadable };
  }

  /** Find by lease id or by login name. */
  async find(idOrUser: string): Promise<Lease | null> {
    const byId = await this.get(idOrUser);
    if (byId) return byId;
    return (await this.list()).find((l) => l.user === idOrUser) ?? null;
  }
}
