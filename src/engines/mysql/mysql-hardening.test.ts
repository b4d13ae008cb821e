import { describe, expect, it } from 'vitest';
import { grantProblems, reachesLedger } from './mysql-grants.js';
import { accountNotJits, isJitLoginName } from './mysql-revoke.js';
import { grantSqls, schemaGrantName, sessionSqlMode } from './mysql-sql.js';
import { makeLoginName } from '../../core/names.js';

describe('ledger rows are claims: which accounts they may reach', () => {
  it('only the exact shape makeLoginName gives passes (trailing space, case, look-alikes, the admin refused)', () => {
    expect(isJitLoginName(makeLoginName('alice', 32))).toBe(true);
    expect(isJitLoginName(makeLoginName('', 32))).toBe(true);
    expect(isJitLoginName(makeLoginName('a.very-long.os-user-name.from-ldap', 32))).toBe(true);
    for (const bad of ['jit_alice_4ek1pq5vwu7l ', 'JIT_alice_4ek1pq5vwu7l', 'jit_alice_4ek1pq5vwu7L', 'jit_admin', 'root', 'jit_alice_4ek1pq5vwu7\u0131', 'jit_alice_4ek1pq5vwu7l\0', `jit_${'a'.repeat(29)}`]) {
      expect(isJitLoginName(bad), JSON.stringify(bad)).toBe(false);
    }
  });

  it('an account with any global privilege, or a role (host \'\'), is not jit\'s', () => {
    const login = 'jit_alice_4ek1pq5vwu7l';
    expect(accountNotJits(login, [{ host: '%', privs: 'N'.repeat(29) }, { host: 'localhost', privs: 'N'.repeat(29) }])).toBeNull();
    expect(accountNotJits(login, [{ host: '%', privs: 'N'.repeat(28) + 'Y' }])).toMatch(/global privileges \(at '%'\)/);
    expect(accountNotJits(login, [{ host: '', privs: 'N'.repeat(29) }])).toMatch(/role/);
  });
});

describe('SHOW GRANTS lines that would let a login outlive its revocation', () => {
  const own = [
    'GRANT USAGE ON *.* TO `jit_a_1234567890`@`%` IDENTIFIED BY PASSWORD \'*51C2F488C84232EDA6CF90358325BC208EA8D933\' WITH MAX_USER_CONNECTIONS 3',
    'GRANT SELECT ON `app`.`orders` TO `jit_a_1234567890`@`%`',
    'GRANT `analytics_ro` TO `jit_a_1234567890`@`%`',
    'GRANT SELECT, SHOW VIEW ON *.* TO `analytics_ro`',
    'GRANT SELECT ON `jit`.* TO `analytics_ro`',
    'SET DEFAULT ROLE `analytics_ro` FOR `jit_a_1234567890`@`%`',
  ];

  it('a login with only table grants, reads and its role is fine', () => {
    expect(grantProblems(own)).toEqual([]);
  });

  it('writes, DROP, EVENT, ALTER on the ledger or *.*, patterns covering jit, grant and admin options are named', () => {
    expect(grantProblems([...own, 'GRANT DELETE, EVENT ON `jit`.* TO `ledger_rw`'])).toEqual(['DELETE, EVENT ON jit.*']);
    expect(grantProblems(['GRANT DROP ON `JIT`.`leases` TO `r`'])).toEqual(['DROP ON JIT.leases']);
    expect(grantProblems(['GRANT UPDATE (`expires_at`) ON `jit`.`leases` TO `r`'])).toEqual(['UPDATE ON jit.leases']);
    expect(grantProblems(['GRANT DELETE ON *.* TO PUBLIC'])).toEqual(['DELETE ON *.*']);
    expect(grantProblems(['GRANT PROCESS, CONNECTION ADMIN ON *.* TO `r`'])).toEqual(['PROCESS, CONNECTION ADMIN ON *.*']);
    expect(grantProblems(['GRANT INSERT ON `ji_`.* TO PUBLIC'])).toEqual(['INSERT ON ji_.*']);
    expect(grantProblems(['GRANT INSERT ON `%`.* TO PUBLIC'])).toEqual(['INSERT ON %.*']);
    expect(grantProblems(['GRANT INSERT ON `ji\\_`.* TO PUBLIC'])).toEqual([]);
    expect(grantProblems(['GRANT SELECT ON `app`.`orders` TO `r` WITH GRANT OPTION'])).toEqual(['SELECT ON app.orders WITH GRANT OPTION']);
    expect(grantProblems(['GRANT `other` TO `r` WITH ADMIN OPTION'])).toEqual(['`other` WITH ADMIN OPTION']);
    expect(grantProblems(["GRANT PROXY ON 'root'@'localhost' TO `r`"])).toEqual(["PROXY ON 'root'@'localhost'"]);
  });

  it('keywords inside quoted names do not split a line (a role named ` ON `jit`.* TO `)', () => {
    expect(grantProblems(['GRANT SELECT ON `a ON ``jit``.* TO x`.`t TO y WITH GRANT OPTION` TO `r`'])).toEqual([]);
    expect(grantProblems(['GRANT `r WITH ADMIN OPTION` TO `jit_a_1234567890`@`%`'])).toEqual([]);
    expect(reachesLedger('`j``it`.*')).toBe(false);
    expect(reachesLedger('PROCEDURE `jit`.`p`')).toBe(true);
  });
});

describe('schema grants cover the one schema named', () => {
  it('_ and % in a schema name are escaped in GRANT … ON db.* (a LIKE pattern there)', () => {
    expect(schemaGrantName('app_1')).toBe('app\\_1');
    expect(schemaGrantName('a%b\\c')).toBe('a\\%b\\\\c');
    expect(grantSqls([{ privileges: ['SELECT'], schema: 'ji_' }], 'jit_a', ['%'])).toEqual(['GRANT SELECT ON `ji\\_`.* TO `jit_a`@`%`']);
    // Table grants take no pattern: names stay as they are.
    expect(grantSqls([{ privileges: ['SELECT'], tables: [{ schema: 'app_1', name: 't_1' }] }], 'jit_a', ['%'])).toEqual(['GRANT SELECT ON `app_1`.`t_1` TO `jit_a`@`%`']);
  });
});

describe('the admin session sql_mode', () => {
  it('drops quoting modes and combination modes that bring them back or change stored-program syntax (ORACLE)', () => {
    expect(sessionSqlMode('PIPES_AS_CONCAT,ANSI_QUOTES,IGNORE_SPACE,ORACLE,NO_KEY_OPTIONS,NO_TABLE_OPTIONS,NO_FIELD_OPTIONS,NO_AUTO_CREATE_USER,SIMULTANEOUS_ASSIGNMENT')).toBe(
      'PIPES_AS_CONCAT,IGNORE_SPACE,NO_KEY_OPTIONS,NO_TABLE_OPTIONS,NO_FIELD_OPTIONS,NO_AUTO_CREATE_USER,SIMULTANEOUS_ASSIGNMENT',
    );
    expect(sessionSqlMode('POSTGRESQL,NO_BACKSLASH_ESCAPES,STRICT_TRANS_TABLES')).toBe('STRICT_TRANS_TABLES');
    expect(sessionSqlMode('ansi,db2,mssql,maxdb,mysql40,mysql323')).toBe('');
  });
});
