import { describe, expect, it } from 'vitest';
import { JitError } from '../core/errors.js';
import { RetryBook, serverRetryPolicy, type RetryPolicy } from './reaper-retry.js';

describe('the reaper retry rules', () => {
  it('backs off exponentially from 250 ms, jittered within the upper half, capped at 5 s', () => {
    for (let attempts = 1; attempts <= 8; attempts++) {
      const base = Math.min(5_000, 250 * 2 ** attempts);
      for (let i = 0; i < 50; i++) {
        const d = serverRetryPolicy.nextDelay(attempts, new Error('down'));
        expect(d).toBeGreaterThanOrEqual(base / 2);
        expect(d).toBeLessThanOrEqual(base);
      }
    }
  });

  it('forgets the credential only when the server refused it', () => {
    expect(serverRetryPolicy.forgetCredential(new JitError('password authentication failed', { kind: 'admin-auth' }))).toBe(true);
    expect(serverRetryPolicy.forgetCredential(new JitError('connection refused', { kind: 'unreachable' }))).toBe(false);
    expect(serverRetryPolicy.forgetCredential(new Error('password authentication failed'))).toBe(false);
  });

  it('keeps a lease waiting until its next attempt is due, counting attempts with the policy it is given', () => {
    const seen: number[] = [];
    const policy: RetryPolicy = { nextDelay: (attempts) => (seen.push(attempts), 1_000 * attempts), forgetCredential: () => false };
    const book = new RetryBook();
    expect(book.waiting('a', 0)).toBe(false);
    expect(book.failed('a', new Error('x'), policy, 10_000)).toBe(1);
    expect(book.waiting('a', 10_999)).toBe(true);
    expect(book.waiting('a', 11_000)).toBe(false);
    expect(book.failed('a', new Error('x'), policy, 11_000)).toBe(2);
    expect(book.waiting('a', 12_999)).toBe(true);
    expect(seen).toEqual([1, 2]);
    book.forget('a');
    expect(book.waiting('a', 11_000)).toBe(false);
    book.failed('b', new Error('x'), policy, 0);
    book.clear();
    expect(book.waiting('b', 0)).toBe(false);
  });
});
