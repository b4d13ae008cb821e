import { lstat, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { ClientFileEntry } from '../engines/engine.js';
import type { Lease } from './lease.js';
import { checkPrivateDir, ensurePrivateDir, readPrivateFile, TEMP_FILE, writeFileAtomic } from '../core/fs-secure.js';
import { statePaths } from './paths.js';

/** One lease's entries, as kept in `clients/entries/<lease id>.json` (0600, like the files built from it). */
interface Fragment {
  id: string;
  /** Lease creation, server time: the newest lease wins a slot. */
  created_at: string;
  /** For the comment above each entry. */
  label: string;
  entries: ClientFileEntry[];
}

const HEADER = '# Written by jit: one entry per live lease, removed when the lease is revoked or expires.\n# Do not edit; jit rewrites this file.\n';
/** A file name in the clients directory, never a path. */
const CLIENT_FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
/** Rebuilds to try while other jit processes change entries too; whoever changes one last rebuilds after it. */
const MAX_ROUNDS = 20;

/**
 * The client files under `$JIT_HOME/clients/` that GUI clients are pointed at once (pgpass,
 * pg_service.conf, option files). Each lease's part is its own fragment file; the client files
 * are rebuilt from all fragments, then the fragments are listed again and the rebuild repeated
 * until nothing changed meanwhile. Concurrent jit processes and the reaper thus need no lock:
 * the process that changes a fragment last also writes the files last, from what it then saw.
 * Every write is an atomic rename of a 0600 file (never through a symlink), and a file with no
 * entry left is removed.
 */
export class ClientFileStore {
  readonly dir: string;
  private readonly entries: string;
  private readonly leases: string;

  constructor(readonly root: string) {
    const p = statePaths(root);
    this.dir = p.clients;
    this.entries = p.clientEntries;
    this.leases = p.leases;
  }

  /** Add a lease's entries and rebuild; returns the paths of the files its entries are in. */
  async add(lease: Lease, entries: ClientFileEntry[]): Promise<string[]> {
    await ensurePrivateDir(this.root);
    await ensurePrivateDir(this.dir);
    await ensurePrivateDir(this.entries);
    const fragment: Fragment = { id: lease.id, created_at: lease.createdAt, label: `lease ${lease.id}: ${lease.user} on ${lease.database} (${lease.role})`, entries };
    await writeFileAtomic(this.fragmentFile(lease.id), `${JSON.stringify(fragment)}\n`, false);
    await this.sync();
    return [...new Set(entries.map((e) => join(this.dir, e.file)))];
  }

  /** Drop a lease's entries (nothing to do for a lease that had none). */
  async remove(id: string): Promise<void> {
    const had = await unlink(this.fragmentFile(id)).then(
      () => true,
      (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return false;
        throw err;
      },
    );
    if (had) await this.sync();
  }

  private fragmentFile(id: string): string {
    return join(this.entries, `${id}.json`);
  }

  /** Rebuild every client file from the fragments, until the fragments stayed the same throughout. */
  async sync(): Promise<void> {
    // Both directories must be the user's own, never symlinks, before anything is read or written there.
    await checkPrivateDir(this.dir);
    await checkPrivateDir(this.entries);
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const before = await this.fragments();
      await this.write(before);
      const after = await this.fragmentIds();
      if (after.join('\n') === before.map((f) => f.id).join('\n')) return;
    }
  }

  private async fragmentIds(): Promise<string[]> {
    const names = await readdir(this.entries).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return [] as string[];
      throw err;
    });
    return names.filter((n) => /^[a-z0-9]+\.json$/.test(n)).map((n) => n.slice(0, -'.json'.length)).sort();
  }

  /** The fragments whose lease still exists; one left behind by a crash between the two removals goes now. */
  private async fragments(): Promise<Fragment[]> {
    const out: Fragment[] = [];
    for (const id of await this.fragmentIds()) {
      const leaseThere = await lstat(join(this.leases, `${id}.json`)).then(() => true, () => false);
      let fragment: Fragment | null = null;
      if (leaseThere) {
        try {
          fragment = JSON.parse(await readPrivateFile(this.fragmentFile(id))) as Fragment;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
          if (!(err instanceof SyntaxError)) throw err;
        }
      }
      if (fragment && fragment.id === id && Array.isArray(fragment.entries)) out.push(fragment);
      else await unlink(this.fragmentFile(id)).catch(() => {});
    }
    return out;
  }

  private async write(fragments: Fragment[]): Promise<void> {
    // Oldest first; in a slot the newest lease's entry is the one kept.
    const ordered = [...fragments].sort((a, b) => a.created_at.localeCompare(b.created_at) || a.id.localeCompare(b.id));
    const files = new Map<string, Map<string, string>>();
    for (const f of ordered) {
      for (const e of f.entries) {
        if (!CLIENT_FILE_NAME.test(e.file) || e.file === 'entries') continue;
        const slots = files.get(e.file) ?? new Map<string, string>();
        const key = e.slot ?? `lease:${f.id}`;
        slots.delete(key);
        slots.set(key, `# ${f.label}\n${e.text}`);
        files.set(e.file, slots);
      }
    }
    for (const [file, slots] of files) {
      await writeFileAtomic(join(this.dir, file), `${HEADER}\n${[...slots.values()].join('\n')}`, false);
    }
    const present = await readdir(this.dir, { withFileTypes: true }).catch(() => []);
    for (const d of present) {
      if (d.isDirectory() || TEMP_FILE.test(d.name) || files.has(d.name)) continue;
      await unlink(join(this.dir, d.name)).catch(() => {});
    }
  }
}
