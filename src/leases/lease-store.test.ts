import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm, stat, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LeaseStore } from './lease-store.js';
import { AuditLog } from './audit-log.js';
import type { Lease } from './lease.js';
import { isDue } from './lease.js';
import { clearSecrets, registerSecret } from '../core/redact.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jit-store-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

export function sampleLease(over: Partial<Lease> = {}): Lease {
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

describe('LeaseStore', () => {
  it('keeps leases 0600 in a 0700 directory and finds them by id or login', async () => {
    const root = join(dir, 'state');
    const store = new LeaseStore(root);
    await store.save(sampleLease());
    expect((await stat(root)).mode & 0o777).toBe(0o700);
    expect((await stat(store.dir)).mode & 0o777).toBe(0o700);
    const files = await readdir(store.dir);
    expect(files).toEqual(['abcdefghij.json']);
    expect((await stat(join(store.dir, files[0]!))).mode & 0o777).toBe(0o600);
    expect((await store.find('abcdefghij'))?.user).toBe('jit_alice_0123456789ab');
    expect((await store.find('jit_alice_0123456789ab'))?.id).toBe('abcdefghij');
    expect(await store.find('../../etc/passwd')).toBeNull();
  });

  it('skips torn files and lists oldest first', async () => {
    const store = new LeaseStore(dir);
    await store.save(sampleLease({ id: 'bbbbbbbbbb', createdAt: '2026-01-02T00:00:00.000Z' }));
    await store.save(sampleLease({ id: 'aaaaaaaaaa', createdAt: '2026-01-01T00:00:00.000Z' }));
    await writeFile(join(store.dir, 'cccccccccc.json'), '{"id": "cc');
    expect((await store.list()).map((l) => l.id)).toEqual(['aaaaaaaaaa', 'bbbbbbbbbb']);
    await store.remove('aaaaaaaaaa');
    await store.remove('aaaaaaaaaa');
    expect((await store.list()).map((l) => l.id)).toEqual(['bbbbbbbbbb']);
  });

  it('is due by the server clock', () => {
    const lease = sampleLease({ clockSkewMs: 60_000 });
    const expires = Date.parse(lease.expiresAt);
    expect(isDue(lease, expires - 61_000)).toBe(false);
    expect(isDue(lease, expires - 60_000)).toBe(true);
  });
});

describe('AuditLog', () => {
  it('appends redacted JSON lines to a 0600 file', async () => {
    clearSecrets();
    registerSecret('TopSecretPw123');
    const log = new AuditLog(dir);
    await log.append({ event: 'mint', login: 'jit_a_1234567890', error: 'oops TopSecretPw123 postgresql://u:pw@h/db' });
    await log.append({ event: 'revoke', cause: 'exit', login: 'jit_a_1234567890' });
    const text = await readFile(log.file, 'utf8');
    expect(text).not.toContain('TopSecretPw123');
    expect(text).not.toContain(':pw@');
    expect((await stat(log.file)).mode & 0o777).toBe(0o600);
    const entries = await log.read();
    expect(entries.map((e) => e.event)).toEqual(['mint', 'revoke']);
    expect(entries[1]!.cause).toBe('exit');
    expect(Date.parse(entries[0]!.time)).not.toBeNaN();
  });
});

describe('LeaseStore temp files', () => {
  it('a leases/.*.tmp left by a crash is removed by scan once older than a minute; a fresh one is kept', async () => {
    const store = new LeaseStore(dir);
    await store.save(sampleLease());
    const { utimes } = await import('node:fs/promises');
    const stale = join(store.dir, '.0123456789ab.tmp');
    const fresh = join(store.dir, '.ba9876543210.tmp');
    await writeFile(stale, '{"half":');
    await writeFile(fresh, '{"half":');
    const old = new Date(Date.now() - 2 * 60_000);
    await utimes(stale, old, old);
    const scan = await store.scan();
    expect(scan.leases.map((l) => l.id)).toEqual(['abcdefghij']);
    expect((await readdir(store.dir)).sort()).toEqual(['.ba9876543210.tmp', 'abcdefghij.json']);
  });
});

describe('LeaseStore file names', () => {
  it('a signed lease copied under another lease id is not trusted: the MAC binds the id inside, not the file name', async () => {
    const store = new LeaseStore(dir);
    await store.save(sampleLease({ id: 'aaaaaaaaaa' }));
    await writeFile(join(store.dir, 'bbbbbbbbbb.json'), await readFile(join(store.dir, 'aaaaaaaaaa.json')), { mode: 0o600 });
    await expect(store.get('bbbbbbbbbb')).rejects.toThrow(/bbbbbbbbbb\.json is not trusted: it holds lease aaaaaaaaaa/);
    const scan = await store.scan();
    expect(scan.leases.map((l) => l.id)).toEqual(['aaaaaaaaaa']);
    expect(scan.unreadable.map((u) => u.id)).toEqual(['bbbbbbbbbb']);
  });
});
