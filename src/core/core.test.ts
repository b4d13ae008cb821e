import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration, tryParseDuration } from './duration.js';
import { makeLoginName, sanitizeRequester } from './names.js';
import { dotenvQuote, shellQuote } from './shell-quote.js';
import { clearSecrets, redact, registerSecret } from './redact.js';
import { generateLeaseId, generatePassword } from './random.js';
import { execFileSync } from 'node:child_process';

describe('durations', () => {
  it('parses the contract forms', () => {
    expect(tryParseDuration('30s')).toBe(30_000);
    expect(tryParseDuration('15m')).toBe(900_000);
    expect(tryParseDuration('2h')).toBe(7_200_000);
    expect(tryParseDuration('1h30m')).toBe(5_400_000);
    expect(tryParseDuration('1d')).toBe(86_400_000);
  });
  it('refuses what only looks like a duration', () => {
    for (const bad of ['', '5', '1 hour', '-5m', '10ms', 'm', '1h 30m', '0s']) expect(tryParseDuration(bad)).toBeNull();
    expect(() => parseDuration('soon', '--ttl')).toThrowError(/--ttl "soon" is not a duration/);
    try {
      parseDuration('x');
    } catch (err) {
      expect((err as { exitCode: number }).exitCode).toBe(2);
    }
  });
  it('formats back', () => {
    expect(formatDuration(5_400_000)).toBe('1h30m');
    expect(formatDuration(90_000)).toBe('1m30s');
    expect(formatDuration(0)).toBe('0s');
  });
});

describe('login names', () => {
  it('is jit_<requester>_<random> within the limit, keeping >= 10 random chars', () => {
    for (const max of [63, 32, 20, 16]) {
      const name = makeLoginName('a-very-long.requester+name@example.com'.repeat(3), max);
      expect(name.length).toBeLessThanOrEqual(max);
      expect(name.startsWith('jit_')).toBe(true);
      const random = name.split('_').pop()!;
      expect(random.length).toBeGreaterThanOrEqual(10);
      expect(name).toMatch(/^[a-z0-9_]+$/);
    }
  });
  it('sanitizes hostile requesters', () => {
    expect(sanitizeRequester(`x"; DROP TABLE t; --`)).toBe('xdroptablet');
    expect(sanitizeRequester('o\'neil\\')).toBe('oneil');
    expect(sanitizeRequester('---')).toBe('user');
    expect(makeLoginName('alice', 63)).toMatch(/^jit_alice_[a-z0-9]{12}$/);
  });
  it('is random', () => {
    expect(makeLoginName('a', 63)).not.toBe(makeLoginName('a', 63));
  });
});

describe('shell quoting', () => {
  const nasty = `p@ss:/#?%'"$(rm -rf /)\`x\`\\n\n end`;
  it('survives eval in a real POSIX shell', () => {
    const out = execFileSync('sh', ['-c', `eval "$0"; printf %s "$V"`, `V=${shellQuote(nasty)}`], { encoding: 'utf8' });
    expect(out).toBe(nasty);
  });
  it('dotenv escapes quotes, dollars and newlines', () => {
    expect(dotenvQuote('a"b$c\nd\\')).toBe('"a\\"b\\$c\\nd\\\\"');
  });
});

describe('redact', () => {
  it('masks registered secrets, their URI encoding and unregistered patterns', () => {
    clearSecrets();
    registerSecret('s3cr3t/pw+x');
    expect(redact('failed for s3cr3t/pw+x')).toBe('failed for ***');
    expect(redact(`uri ${encodeURIComponent('s3cr3t/pw+x')}`)).toBe('uri ***');
    expect(redact('postgresql://u:hunter2@h:5432/db')).toBe('postgresql://u:***@h:5432/db');
    expect(redact("PASSWORD 'SCRAM-SHA-256$4096:abc$def:ghi'")).not.toContain('abc$def');
    expect(redact('PGPASSWORD=hunter2 psql')).toBe('PGPASSWORD=*** psql');
    expect(redact('{"password":"hunter2"}')).toBe('{"password":"***"}');
  });
  it('keeps hints that name a policy password source readable', () => {
    const hint = 'store the admin password elsewhere: password: env:NAME or password: command:op read x';
    expect(redact(hint)).toBe(hint);
  });
});

describe('random', () => {
  it('passwords are >= 32 URL-safe characters', () => {
    const pw = generatePassword();
    expect(pw.length).toBeGreaterThanOrEqual(32);
    expect(pw).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(encodeURIComponent(pw)).toBe(pw);
  });
  it('lease ids are short and distinct', () => {
    const ids = new Set(Array.from({ length: 200 }, generateLeaseId));
    expect(ids.size).toBe(200);
    for (const id of ids) expect(id).toMatch(/^[a-z0-9]{10}$/);
  });
});
