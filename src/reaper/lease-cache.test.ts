import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LeaseFileCache } from './lease-cache.js';
import { LeaseStore } from '../leases/lease-store.js';
import type { Lease } from '../leases/lease.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function freshStore(): Promise<LeaseStore> {
  const dir = await mkdtemp(join(tmpdir(), 'jit-lease-cache-'));
  dirs.push(dir);
  return new LeaseStore(join(dir, 'home'));
}

const lease = (i: number, user = `jit_u${i}`): Lease => ({
  id: `l${i}aaaaaaaa`,
  database: 'prod-db',
  role: 'readonly',
  user,
  target: { engine: 'postgres', host: '127.0.0.1', port: 5432, database: 'app', tls: 'disable', adminUser: 'admin' },
  adminSource: 'keychain',
  requester: 'alice',
  requesterHost: 'laptop',
  createdAt: `2030-01-01T00:00:0${i}.000Z`,
  expiresAt: '2030-01-01T00:15:00.000Z',
  maxExpiresAt: '2030-01-01T01:00:00.000Z',
  clockSkewMs: 0,
  state: 'active',
  command: 'uri',
});

describe('the reaper re-reads only lease files that changed', () => {
  it('serves unchanged files from memory, re-reads rewritten ones, forgets removed ones', async () => {
    const store = await freshStore();
    for (let i = 0; i < 5; i++) await store.save(lease(i));
    const cache = new LeaseFileCache(store);
    expect((await cache.scan()).leases.map((l) => l.user)).toEqual(['jit_u0', 'jit_u1', 'jit_u2', 'jit_u3', 'jit_u4']);
    expect(cache.reads).toBe(5);

    // Nothing changed: nothing read.
    await cache.scan();
    expect(cache.reads).toBe(5);

    // Rewritten the way LeaseStore does it (a rename into place): read again, alone.
    await store.save(lease(1, 'jit_changed'));
    await store.remove('l3aaaaaaaa');
    const after = await cache.scan();
    expect(cache.reads).toBe(6);
    expect(after.leases.map((l) => l.user)).toEqual(['jit_u0', 'jit_changed', 'jit_u2', 'jit_u4']);

    // Edited in place (same inode): the new size and mtime are noticed.
    await writeFile(join(store.dir, 'l2aaaaaaaa.json'), '{"truncated');
    const broken = await cache.scan();
    expect(broken.unreadable.map((u) => u.id)).toEqual(['l2aaaaaaaa']);
    expect(cache.reads).toBe(7);
    expect(broken.leases.map((l) => l.user)).toEqual(['jit_u0', 'jit_changed', 'jit_u4']);
  });

  it('never trusts a lease file without this state directory\'s MAC (planted or edited)', async () => {
    const store = await freshStore();
    await store.save(lease(0));
    const file = join(store.dir, 'l0aaaaaaaa.json');
    const edited = JSON.parse(await readFile(file, 'utf8'));
    edited.adminSource = 'command:touch /tmp/pwned';
    await writeFile(file, JSON.stringify(edited), { mode: 0o600 });
    const { mac: _, ...unsigned } = lease(1);
    await writeFile(join(store.dir, 'l1aaaaaaaa.json'), JSON.stringify(unsigned), { mode: 0o600 });
    const scan = await new LeaseFileCache(store).scan();
    expect(scan.leases).toEqual([]);
    expect(scan.unreadable.map((u) => u.reason)).toEqual([expect.stringMatching(/MAC does not match/), expect.stringMatching(/no MAC/)]);
  });
});
