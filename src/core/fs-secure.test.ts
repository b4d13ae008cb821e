import { afterEach, describe, expect, it } from 'vitest';
import { chmod, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createOrReadPrivateFile } from './fs-secure.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

// Large enough that a write takes a while: a reader arriving meanwhile must not see part of it.
const SIZE = 4 << 20;

describe('createOrReadPrivateFile on first use by many processes at once', () => {
  it('hands every caller the same complete contents, never a half-written file', async () => {
    for (let round = 0; round < 5; round++) {
      const dir = await mkdtemp(join(tmpdir(), 'jit-key-'));
      dirs.push(dir);
      const file = join(dir, 'lease.key');
      const got = await Promise.all(Array.from({ length: 8 }, () => createOrReadPrivateFile(file, randomBytes(SIZE))));
      for (const g of got) expect(g.equals(got[0]!)).toBe(true);
      expect(got[0]!.length).toBe(SIZE);
      expect(await readdir(dir)).toEqual(['lease.key']);
    }
  });
});

describe('createOrReadPrivateFile once the file exists (every mint reads the lease key)', () => {
  it('reads it without writing anything into the directory (no temp file written and flushed)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'jit-key-'));
    dirs.push(dir);
    const file = join(dir, 'lease.key');
    const key = await createOrReadPrivateFile(file, randomBytes(32));
    const before = (await stat(dir, { bigint: true })).mtimeNs;
    // A directory's mtime moves with every entry created or removed in it, the temp file's too.
    await new Promise((r) => setTimeout(r, 5));
    expect((await createOrReadPrivateFile(file, randomBytes(32))).equals(key)).toBe(true);
    expect((await stat(dir, { bigint: true })).mtimeNs).toBe(before);
  });

  it('still refuses one that group or others may read', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'jit-key-'));
    dirs.push(dir);
    const file = join(dir, 'lease.key');
    await createOrReadPrivateFile(file, randomBytes(32));
    await chmod(file, 0o644);
    await expect(createOrReadPrivateFile(file, randomBytes(32))).rejects.toThrow(/readable by group or others \(mode 0644\)/);
  });
});
