import { describe, expect, it } from 'vitest';
import type { Lease } from '../leases/lease.js';
import { CredentialStore } from './reaper-credentials.js';
import { credentialKey } from './protocol.js';

const lease = (database: string, adminSource = 'env:PW') => ({ database, adminSource }) as Lease;

describe('CredentialStore.retainFor', () => {
  it('drops the credentials no lease needs, keeps those some lease needs', () => {
    const c = new CredentialStore();
    c.offer(credentialKey('a', 'env:PW'), 'secret-a', 100);
    c.offer(credentialKey('b', 'env:PW'), 'secret-b', 100);
    expect(c.retainFor([lease('a')], 200)).toEqual([credentialKey('b', 'env:PW')]);
    expect(c.for(lease('a'))).toBe('secret-a');
    expect(c.for(lease('b'))).toBeUndefined();
    expect(c.retainFor([], 300)).toEqual([credentialKey('a', 'env:PW')]);
    expect(c.keys()).toEqual([]);
  });

  it('keeps one handed over after the leases were read: its lease may not have been seen yet', () => {
    const c = new CredentialStore();
    c.offer(credentialKey('a', 'env:PW'), 'secret-a', 250);
    expect(c.retainFor([], 200)).toEqual([]);
    expect(c.for(lease('a'))).toBe('secret-a');
    expect(c.retainFor([], 300)).toEqual([credentialKey('a', 'env:PW')]);
  });
});
