import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, readdir, rm, stat, unlink } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LeaseStore } from './lease-store.js';
import { ClientFileStore } from './client-files.js';
import type { Lease } from './lease.js';

function sampleLease(over: Partial<Lease> = {}): Lease {
  return {
    id: 'abcdefghij',
    database: 'prod-db',
    role: 'readonly',
    user: 'jit_alice_0123456789ab',
    target: { engine: 'postgres', host: '127.0.0.1', port: 5432, database: 'app', tls: 'disable', adminUser: 'admin' },
    adminSource: 'keychain',
    requester: 'alice',
    requesterHost: 'laptop',
    createdAt: '2026-01-01T00:00:00.000Z',
    expiresAt: '2026-01-01T00:15:00.000Z',
    maxExpiresAt: '2026-01-01T01:00:00.000Z',
    clockSkewMs: 0,
    state: 'active',
    command: 'uri',
    ...over,
  };
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jit-clients-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const idOf = (i: number) => `lease${String(i).padStart(5, '0')}`;
const entry = (i: number) => ({ file: 'pgpass', text: `h:5432:app:jit_u${i}:pw${i}\n` });

describe('ClientFileStore', () => {
  it('writes 0600 files in a 0700 directory, keeps the newest lease of a slot, and removes a file with no entry left', async () => {
    const leases = new LeaseStore(dir);
    const old = sampleLease({ id: 'aaaaaaaaaa', user: 'jit_old', createdAt: '2026-01-01T00:00:00.000Z' });
    const neu = sampleLease({ id: 'bbbbbbbbbb', user: 'jit_new', createdAt: '2026-01-01T00:01:00.000Z' });
    for (const l of [neu, old]) {
      await leases.save(l);
      await leases.clientFiles.add(l, [{ file: 'svc.conf', slot: 'jit-prod-db-readonly', text: `[jit-prod-db-readonly]\nuser=${l.user}\n` }]);
    }
    const file = join(dir, 'clients', 'svc.conf');
    expect((await stat(join(dir, 'clients'))).mode & 0o777).toBe(0o700);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const text = await readFile(file, 'utf8');
    expect(text).toMatch(/^# Written by jit/);
    expect(text).toContain('# lease bbbbbbbbbb: jit_new on prod-db (readonly)\n[jit-prod-db-readonly]\nuser=jit_new\n');
    expect(text).not.toContain('jit_old');
    // Every way a lease ends goes through LeaseStore.remove: its entries go with it.
    await leases.remove(neu.id);
    expect(await readFile(file, 'utf8')).toContain('user=jit_old\n');
    await leases.remove(old.id);
    expect(existsSync(file)).toBe(false);
  });

  it('drops the entries of a lease that is gone (a crash between the two removals) at the next rebuild', async () => {
    const leases = new LeaseStore(dir);
    const a = sampleLease({ id: 'aaaaaaaaaa', user: 'jit_a' });
    const b = sampleLease({ id: 'bbbbbbbbbb', user: 'jit_b', createdAt: '2026-01-01T00:05:00.000Z' });
    await leases.save(a);
    await leases.clientFiles.add(a, [{ file: 'pgpass', text: 'h:1:d:jit_a:pw\n' }]);
    await unlink(join(dir, 'leases', `${a.id}.json`));
    await leases.save(b);
    await leases.clientFiles.add(b, [{ file: 'pgpass', text: 'h:1:d:jit_b:pw\n' }]);
    const text = await readFile(join(dir, 'clients', 'pgpass'), 'utf8');
    expect(text).toContain('jit_b');
    expect(text).not.toContain('jit_a');
    expect(await readdir(join(dir, 'clients', 'entries'))).toEqual([`${b.id}.json`]);
  });

  it('ignores an entry naming a path instead of a file', async () => {
    const leases = new LeaseStore(dir);
    const a = sampleLease();
    await leases.save(a);
    await leases.clientFiles.add(a, [{ file: '../leases/x', text: 'x\n' }, { file: 'entries', text: 'x\n' }, entry(1)]);
    expect((await readdir(join(dir, 'clients'))).sort()).toEqual(['entries', 'pgpass']);
  });

  it('stays exact when many writers add and remove at once (no lock: the last to change rebuilds last)', async () => {
    const leases = new LeaseStore(dir);
    const n = 40;
    const all = Array.from({ length: n }, (_, i) => sampleLease({ id: idOf(i), user: `jit_u${i}`, createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString() }));
    for (const l of all) await leases.save(l);
    // Separate stores, as separate processes (jit commands, the reaper) would have.
    await Promise.all(all.map((l, i) => new ClientFileStore(dir).add(l, [entry(i)])));
    const lines = async () => (await readFile(join(dir, 'clients', 'pgpass'), 'utf8')).split('\n').filter((l) => l.startsWith('h:'));
    expect((await lines()).length).toBe(n);
    await Promise.all(all.filter((_, i) => i % 2 === 0).map((l) => new LeaseStore(dir).remove(l.id)));
    expect((await lines()).sort()).toEqual(all.map((_, i) => i).filter((i) => i % 2 === 1).map((i) => `h:5432:app:jit_u${i}:pw${i}`).sort());
  });
});
