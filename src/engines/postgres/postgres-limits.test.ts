import { describe, expect, it } from 'vitest';
import { sessionLimitsSql } from './postgres-limits.js';

describe('session limits SQL', () => {
  it('PostgreSQL: one ALTER ROLE … SET per setting, in milliseconds, with the login quoted', () => {
    expect(sessionLimitsSql('jit_a"b', undefined)).toEqual([]);
    expect(sessionLimitsSql('jit_a"b', {})).toEqual([]);
    const sql = sessionLimitsSql('jit_a"b', { statementTimeoutMs: 30_000, idleTimeoutMs: 1_000, transactionTimeoutMs: 90_000 });
    expect(sql[0]).toBe('ALTER ROLE "jit_a""b" SET statement_timeout = 30000');
    expect(sql[1]).toBe('ALTER ROLE "jit_a""b" SET idle_session_timeout = 1000');
    expect(sql[2]).toBe('ALTER ROLE "jit_a""b" SET idle_in_transaction_session_timeout = 1000');
    expect(sql[3]).toMatch(/^DO \$jit\$BEGIN IF pg_catalog\.current_setting\('server_version_num'\)::int < 170000 THEN RAISE EXCEPTION .* USING ERRCODE = 'JIT04'; END IF; END\$jit\$$/);
    expect(sql[4]).toBe('ALTER ROLE "jit_a""b" SET transaction_timeout = 90000');
  });

  it('refuses a value that is not a positive whole number of milliseconds (nothing but digits reaches the SQL)', () => {
    expect(() => sessionLimitsSql('jit_x', { statementTimeoutMs: 1.5 })).toThrow();
    expect(() => sessionLimitsSql('jit_x', { statementTimeoutMs: -1 })).toThrow();
    expect(() => sessionLimitsSql('jit_x', { idleTimeoutMs: Number.NaN })).toThrow();
  });
});
