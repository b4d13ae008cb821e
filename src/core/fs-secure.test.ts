import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
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
