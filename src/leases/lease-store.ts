import { lstat, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Lease } from './lease.js';
import { checkPrivateDir, ensurePrivateDir, readPrivateFile, TEMP_FILE, writeFileAtomic } from '../core/fs-secure.js';
import { JitError } from '../core/errors.js';
import { LeaseKey } from './lease-mac.js';
import { statePaths } from './paths.js';
import { ClientFileStore } from './client-files.js';

/**
 * One JSON file per lease under `$JIT_HOME/leases/`: every write is an atomic rename of that
 * lease's own file, so concurrent jit processes and the reaper never need a lock.
 */
/** What scan() found: leases it could read, and files it could not. */
export interface LeaseScan {
  leases: Lease[];
  unreadable: Array<{ id: string; reason: string }>;
}

/** Older than any atomic write can take. */
export const STALE_TEMP_MS = 60_000;

export class LeaseStore {
  readonly dir: string;

  /** The GUI client files (pgpass, pg_service.conf…): a lease's entries there go when it does. */
  readonly clientFiles: ClientFileStore;

  private readonly key: LeaseKey;

  constructor(readonly root: string) {
    this.dir = statePaths(root).leases;
    this.key = new LeaseKey(root);
    this.clientFiles = new ClientFileStore(root);
  }

  async init(): Promise<void> {
    await ensurePrivateDir(this.root);
    await ensurePrivateDir(this.dir);
  }

  /**
   * Parse and check one lease file (no symlink, ours, 0600): a lease without this user's MAC is
   * never trusted. Every reader of lease files goes through here.
   */
  async readLease(file: string): Promise<Lease> {
    const lease = JSON.parse(await readPrivateFile(file)) as Lease;
    const problem = (await this.key.problem(lease)) ?? this.misnamed(file, lease);
    if (problem) throw new JitError(`lease file ${file} is not trusted: ${problem}`, { hint: 'remove it; `jit reap` revokes its login on the server' });
    return lease;
  }

  /** The MAC covers the id inside, not the file name: a lease copied to another name is a replay. */
  private misnamed(file: string, lease: Lease): string | null {
    return file === this.file(lease.id) ? null : `it holds lease ${String(lease.id)}, not the one its name says`;
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
    await writeFileAtomic(this.file(lease.id), `${JSON.stringify(await this.key.sign(lease), null, 2)}\n`, durable);
  }

  async get(id: string): Promise<Lease | null> {
    if (!/^[a-z0-9]+$/.test(id)) return null;
    try {
      return await this.readLease(this.file(id));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  /**
   * Every way a lease ends (revoke, revoke --all, the reaper, reap, revoked elsewhere) comes
   * through here: its client-file entries go first. Failing that, the lease still goes (its login
   * is gone, and so is the password's use); the next rebuild drops entries without a lease.
   */
  async remove(id: string): Promise<void> {
    await this.clientFiles.remove(id).catch(() => {});
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
    await checkPrivateDir(this.root);
    await checkPrivateDir(this.dir);
    try {
      names = await readdir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { leases: [], unreadable: [] };
      throw err;
    }
    const leases: Lease[] = [];
    const unreadable: LeaseScan['unreadable'] = [];
    // The leases directory itself must be the user's own before anything in it is believed.
    await this.init();
    for (const name of names) {
      if (TEMP_FILE.test(name)) {
        await this.dropStaleTemp(join(this.dir, name));
        continue;
      }
      if (!name.endsWith('.json') || name.startsWith('.')) continue;
      try {
        leases.push(await this.readLease(join(this.dir, name)));
      } catch (err) {
        // a file removed between readdir and read is simply gone
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        unreadable.push({ id: name.slice(0, -'.json'.length), reason: err instanceof Error ? err.message : String(err) });
      }
    }
    return { leases: leases.sort((a, b) => a.createdAt.localeCompare(b.createdAt)), unreadable };
  }

  /**
   * A temp file of an atomic write that a crash left behind. Older than a minute (no write
   * takes that long), it is removed; a newer one may be a write in progress.
   */
  private async dropStaleTemp(file: string): Promise<void> {
    const st = await lstat(file).catch(() => null);
    if (st && Date.now() - st.mtimeMs > STALE_TEMP_MS) await unlink(file).catch(() => {});
  }

  /** Find by lease id or by login name. */
  async find(idOrUser: string): Promise<Lease | null> {
    const byId = await this.get(idOrUser);
    if (byId) return byId;
    return (await this.list()).find((l) => l.user === idOrUser) ?? null;
  }
}
