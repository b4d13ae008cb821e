import { describe, expect, it } from 'vitest';
import { createUserSql } from './mysql-sql.js';

describe('session limits SQL', () => {
  it('MariaDB: MAX_STATEMENT_TIME in seconds, after MAX_USER_CONNECTIONS', () => {
    const base = { login: 'jit_a`b', hosts: ['%'], auth: { kind: 'native-hash', hash: '*AB' } as const, connectionLimit: 5, requireSsl: false };
    expect(createUserSql(base)).toBe("CREATE USER `jit_a``b`@`%` IDENTIFIED BY PASSWORD '*AB' WITH MAX_USER_CONNECTIONS 5");
    expect(createUserSql({ ...base, maxStatementTimeMs: 1_500 })).toBe("CREATE USER `jit_a``b`@`%` IDENTIFIED BY PASSWORD '*AB' WITH MAX_USER_CONNECTIONS 5 MAX_STATEMENT_TIME 1.5");
    expect(createUserSql({ ...base, maxStatementTimeMs: 60_000 })).toMatch(/ MAX_STATEMENT_TIME 60$/);
    expect(() => createUserSql({ ...base, maxStatementTimeMs: 0 })).toThrow();
  });
});
