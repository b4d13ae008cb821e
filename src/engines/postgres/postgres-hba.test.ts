import { describe, expect, it } from 'vitest';
import { hbaWarnings, type HbaRule } from './postgres-hba.js';

const rule = (line: number, type: string, database: string[], user: string[], method: string, error: string | null = null): HbaRule => ({
  line_number: line,
  type,
  database,
  user_name: user,
  auth_method: method,
  error,
});

describe('hbaWarnings', () => {
  it('flags trust, cert, peer and ident lines that could match a minted login', () => {
    const rules = [
      rule(1, 'local', ['all'], ['postgres'], 'peer'),
      rule(2, 'host', ['all'], ['all'], 'trust'),
      rule(3, 'hostssl', ['app'], ['+jit'], 'cert'),
      rule(4, 'local', ['app'], ['jit_alice_abcdefghij'], 'ident'),
      rule(5, 'host', ['all'], ['all'], 'scram-sha-256'),
    ];
    expect(hbaWarnings(rules, 'app', ['jit']).map((w) => [w.line, w.method])).toEqual([
      [2, 'trust'],
      [3, 'cert'],
      [4, 'ident'],
    ]);
    expect(hbaWarnings(rules, 'app', ['jit'])[0]!.text).toBe('line 2: host all all trust');
  });

  it('ignores password methods, reject, broken lines, replication and other databases or users', () => {
    const rules = [
      rule(1, 'host', ['all'], ['all'], 'md5'),
      rule(2, 'host', ['all'], ['all'], 'password'),
      rule(3, 'host', ['all'], ['all'], 'reject'),
      rule(4, 'host', ['all'], ['all'], 'trust', 'invalid authentication method'),
      rule(5, 'host', ['replication'], ['all'], 'trust'),
      rule(6, 'host', ['otherdb'], ['all'], 'trust'),
      rule(7, 'host', ['app'], ['alice', '+admins'], 'trust'),
    ];
    expect(hbaWarnings(rules, 'app', ['jit'])).toEqual([]);
  });

  it('treats group entries of the policy, regexes, @files and samerole as possible matches', () => {
    const rules = [
      rule(1, 'host', ['app'], ['+analytics_ro'], 'trust'),
      rule(2, 'host', ['app'], ['/^jit_'], 'trust'),
      rule(3, 'host', ['app'], ['/^admin'], 'trust'),
      rule(4, 'host', ['@dbs'], ['@users'], 'peer'),
      rule(5, 'host', ['samerole'], ['all'], 'trust'),
      rule(6, 'host', ['app'], ['/[unclosed'], 'trust'),
    ];
    expect(hbaWarnings(rules, 'app', ['jit', 'analytics_ro']).map((w) => w.line)).toEqual([1, 2, 4, 5, 6]);
  });
});
