import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LeaseFileCache } from './lease-cache.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

const lease = (id: string, user: string, createdAt = '2030-01-01T00:00:00.000Z') => JSON.stringify({ id, user, createdAt });

describe('the reaper re-reads only lease files that changed', () => {
  it('serves unchanged files from memory, re-reads rewritten ones, forgets removed ones', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'jit-lease-cache-'));
    dirs.push(dir);
    for (let i = 0; i < 5; i++) await writeFile(join(dir, `l${i}.json`), lease(`l${i}`, `jit_u${i}`, `2030-01-01T00:00:0${i}.000Z`));
    const cache = new LeaseFileCache(dir);
    expect((await cache.scan()).leases.map((l) => l.id)).toEqual(['l0', 'l1', 'l2', 'l3', 'l4']);
    expect(cache.reads).toBe(5);

    // Nothing changed: nothing read.
    await cache.scan();
    expect(cache.reads).toBe(5);

    // A lease rewritten the way LeaseStore does it (a rename into place): read again, alone.
    await writeFile(join(dir, '.tmp'), lease('l1', 'jit_changed', '2030-01-01T00:00:01.000Z'));
    await rename(join(dir, '.tmp'), join(dir, 'l1.json'));
    await unlink(join(dir, 'l3.json'));
    const after = await cache.scan();
    expect(cache.reads).toBe(6);
    expect(after.leases.map((l) => `${l.id}:${l.user}`)).toEqual(['l0:jit_u0', 'l1:jit_changed', 'l2:jit_u2', 'l4:jit_u4']);

    // Edited in place (same inode): the new size and mtime are noticed.
    const p = join(dir, 'l2.json');
    await writeFile(p, '{"truncated');
    const broken = await cache.scan();
    expect(broken.unreadable.map((u) => u.id)).toEqual(['l2']);
    expect(cache.reads).toBe(7);
    expect(broken.leases.map((l) => l.id)).toEqual(['l0', 'l1', 'l4']);
  });
});
