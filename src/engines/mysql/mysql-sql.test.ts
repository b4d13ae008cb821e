import { describe, expect, it } from 'vitest';
import {
  alterEventSql,
  createEventSql,
  createUserSql,
  alterUserAttributeSql,
  defaultRoleSqls,
  dropAccountsSql,
  dropEventSql,
  dropUsersSql,
  escapeLiteral,
  grantRolesSql,
  grantRolesToRoleSql,
  createRoleSql,
  revokeAllFromRoleSql,
  revokeFromRoleSql,
  revokeRoleFromRoleSql,
  roleGrantSqls,
  grantSqls,
  isoFromDatetime,
  killSql,
  lockAccountsSql,
  ownDefaultRoleSql,
  quoteAccount,
  quoteIdent,
  sessionSetupSql,
  sessionSqlMode,
  utcDatetime,
} from './mysql-sql.js';
import { nativePasswordHash } from './mysql-password.js';
import { buildUri, clientEnv, optionFileText, optionValue } from './mysql-uri.js';
import { granteeOf } from './mysql-privileges.js';
import { loginHosts } from './mysql-session.js';
import { parseFlavor, atLeast } from './mysql-db.js';
import { translateMysqlError } from './mysql-errors.js';
import type { ServerTarget } from '../engine.js';
import { adminConnectionOptions } from './mysql-engine.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const HOSTILE = ['a"b', 'a`b', "o'neil\\", 'x"; DROP TABLE t; --', "x`; DROP USER root@'%'; --"];

describe('quoting', () => {
  it('backtick identifiers double backticks and leave backslashes alone', () => {
    expect(quoteIdent('a`b')).toBe('`a``b`');
    expect(quoteIdent("o'neil\\")).toBe("`o'neil\\`");
    expect(quoteIdent('x"; DROP TABLE t; --')).toBe('`x"; DROP TABLE t; --`');
    expect(() => quoteIdent('a\0b')).toThrow(/NUL/);
  });

  it('accounts are `user`@`host`, both parts quoted', () => {
    expect(quoteAccount('jit_x', '%')).toBe('`jit_x`@`%`');
    expect(quoteAccount('a`b', "o'neil\\")).toBe("`a``b`@`o'neil\\`");
  });

  it('literals double quotes and backslashes (the session clears NO_BACKSLASH_ESCAPES)', () => {
    expect(escapeLiteral("o'neil\\")).toBe("'o''neil\\\\'");
    expect(escapeLiteral("\\'; DROP TABLE t; --")).toBe("'\\\\''; DROP TABLE t; --'");
    expect(escapeLiteral('a\0b')).toBe("'a\\0b'");
  });

  it('every hostile name stays inside its quotes in every builder', () => {
    for (const name of HOSTILE) {
      const q = quoteIdent(name);
      // An identifier's quotes close only at the end: strip doubled backticks, one pair remains.
      expect(q.slice(1, -1).replace(/``/g, '')).not.toContain('`');
      const sqls = [
        createUserSql({ login: name, hosts: ['%', name], auth: { kind: 'native-hash', hash: '*ABC' }, connectionLimit: -1, requireSsl: false }),
        ...grantSqls([{ privileges: ['SELECT'], tables: [{ schema: name, name }] }, { privileges: ['SELECT', 'INSERT'], schema: name }], name, ['%']),
        grantRolesSql([name], name, ['%']),
        ...defaultRoleSqls(true, [name], name, ['%']),
        ...defaultRoleSqls(false, [name, 'r2'], name, ['%']),
        ownDefaultRoleSql(name),
        lockAccountsSql(name, ['%', 'localhost']),
        dropUsersSql(name, ['%']),
        dropAccountsSql([{ login: name, host: '%' }]),
        createEventSql(name, ['%'], new Date('2030-01-01T00:00:00Z')),
        alterEventSql(name, new Date('2030-01-01T00:00:00Z')),
        dropEventSql(name),
        createRoleSql(name),
        ...roleGrantSqls([{ privileges: ['SELECT'], tables: [{ schema: name, name }] }, { privileges: ['SELECT'], schema: name }], name),
        grantRolesToRoleSql([name, name], name),
        revokeRoleFromRoleSql(name, name),
        revokeAllFromRoleSql(name),
        revokeFromRoleSql(['SELECT'], { schema: name, table: name }, name),
        revokeFromRoleSql(['SELECT', 'INSERT'], { schema: name }, name),
      ];
      for (const sql of sqls) {
        // Remove every quoted token: what is left is SQL keywords and punctuation only.
        const bare = sql.replace(/`(?:[^`]|``)*`/g, 'I').replace(/'(?:[^'\\]|''|\\.)*'/g, 'L');
        expect(bare, sql).not.toMatch(/DROP TABLE|DROP USER root|--/);
        expect(bare, sql).not.toMatch(/[`'"]/);
      }
    }
  });
});

describe('statements', () => {
  it('CREATE USER: every host, the hash, REQUIRE SSL, MAX_USER_CONNECTIONS (-1 is 0, unlimited)', () => {
    expect(createUserSql({ login: 'jit_a', hosts: ['%', 'localhost'], auth: { kind: 'native-hash', hash: '*AB' }, connectionLimit: -1, requireSsl: true })).toBe(
      "CREATE USER `jit_a`@`%` IDENTIFIED BY PASSWORD '*AB', `jit_a`@`localhost` IDENTIFIED BY PASSWORD '*AB' REQUIRE SSL WITH MAX_USER_CONNECTIONS 0",
    );
    expect(createUserSql({ login: 'jit_a', hosts: ['%'], auth: { kind: 'native-hash-with', hash: '*AB' }, connectionLimit: 3, requireSsl: false })).toBe(
      "CREATE USER `jit_a`@`%` IDENTIFIED WITH mysql_native_password AS '*AB' WITH MAX_USER_CONNECTIONS 3",
    );
    expect(createUserSql({ login: 'jit_a', hosts: ['%'], auth: { kind: 'caching-sha2', password: "p'w" }, connectionLimit: 0, requireSsl: false })).toBe(
      "CREATE USER `jit_a`@`%` IDENTIFIED WITH caching_sha2_password BY 'p''w' WITH MAX_USER_CONNECTIONS 0",
    );
    expect(() => createUserSql({ login: 'jit_a', hosts: [], auth: { kind: 'native-hash', hash: '*AB' }, connectionLimit: 0, requireSsl: false })).toThrow();
  });

  it('MySQL 8.0.21+: the lease as the account attribute, hostile text quoted; extend merges the new expiry', () => {
    const marker = { id: 'l1', reason: "o'neil\\ \"x\"\n" };
    const sql = createUserSql({ login: 'jit_a', hosts: ['%'], auth: { kind: 'caching-sha2', password: 'pw' }, connectionLimit: 2, requireSsl: false, attribute: marker });
    expect(sql).toBe(`CREATE USER \`jit_a\`@\`%\` IDENTIFIED WITH caching_sha2_password BY 'pw' WITH MAX_USER_CONNECTIONS 2 ATTRIBUTE ${escapeLiteral(JSON.stringify({ jit: marker }))}`);
    // The literal holds the JSON exactly once it is unescaped as the server reads it.
    const literal = sql.slice(sql.indexOf(' ATTRIBUTE ') + 11);
    expect(JSON.parse(literal.slice(1, -1).replace(/\\(.)/g, '$1').replace(/''/g, "'"))).toEqual({ jit: marker });
    expect(alterUserAttributeSql('jit_a', ['%', 'localhost'], { expires_at: '2026-01-01T00:00:00.000Z' })).toEqual([
      'ALTER USER `jit_a`@`%` ATTRIBUTE \'{"jit":{"expires_at":"2026-01-01T00:00:00.000Z"}}\'',
      'ALTER USER `jit_a`@`localhost` ATTRIBUTE \'{"jit":{"expires_at":"2026-01-01T00:00:00.000Z"}}\'',
    ]);
  });

  it('GRANT per table and per schema, to every account', () => {
    expect(grantSqls([{ privileges: ['SELECT', 'UPDATE'], tables: [{ schema: 'app', name: 'a`b' }] }, { privileges: ['SELECT'], schema: 'rep' }], 'jit_a', ['%', 'localhost'])).toEqual([
      'GRANT SELECT, UPDATE ON `app`.`a``b` TO `jit_a`@`%`, `jit_a`@`localhost`',
      'GRANT SELECT ON `rep`.* TO `jit_a`@`%`, `jit_a`@`localhost`',
    ]);
    expect(() => grantSqls([{ privileges: ['SELECT; DROP'], schema: 'x' }], 'jit_a', ['%'])).toThrow(/privilege/);
  });

  it('group roles: created held by the admin, granted and revoked by name without a host', () => {
    expect(createRoleSql('jitgroup_r_1')).toBe('CREATE ROLE `jitgroup_r_1` WITH ADMIN CURRENT_USER');
    expect(roleGrantSqls([{ privileges: ['SELECT', 'UPDATE'], tables: [{ schema: 'app', name: 'a`b' }] }, { privileges: ['SELECT'], schema: 'app_1' }], 'g`1')).toEqual([
      'GRANT SELECT, UPDATE ON `app`.`a``b` TO `g``1`',
      'GRANT SELECT ON `app\\_1`.* TO `g``1`',
    ]);
    expect(grantRolesToRoleSql(['analytics_ro'], 'g')).toBe('GRANT `analytics_ro` TO `g`');
    expect(revokeRoleFromRoleSql("o'neil\\", 'g')).toBe("REVOKE `o'neil\\` FROM `g`");
    expect(revokeAllFromRoleSql('g')).toBe('REVOKE ALL PRIVILEGES, GRANT OPTION FROM `g`');
    expect(revokeFromRoleSql(['SELECT'], { schema: 'app', table: 't' }, 'g')).toBe('REVOKE SELECT ON `app`.`t` FROM `g`');
    expect(revokeFromRoleSql(['DELETE', 'TRIGGER'], { schema: 'app\\_1' }, 'g')).toBe('REVOKE DELETE, TRIGGER ON `app\\_1`.* FROM `g`');
    expect(() => revokeFromRoleSql(['SELECT; DROP'], { schema: 'x' }, 'g')).toThrow(/privilege/);
    expect(() => revokeFromRoleSql([], { schema: 'x' }, 'g')).toThrow();
    expect(() => grantRolesToRoleSql([], 'g')).toThrow();
  });

  it('default roles: MariaDB one per account, MySQL all', () => {
    expect(defaultRoleSqls(true, ['r'], 'jit_a', ['%', 'localhost'])).toEqual(['SET DEFAULT ROLE `r` FOR `jit_a`@`%`', 'SET DEFAULT ROLE `r` FOR `jit_a`@`localhost`']);
    expect(defaultRoleSqls(false, ['r', 's'], 'jit_a', ['%'])).toEqual(['SET DEFAULT ROLE ALL TO `jit_a`@`%`']);
    expect(() => defaultRoleSqls(true, ['r', 's'], 'jit_a', ['%'])).toThrow();
    expect(defaultRoleSqls(true, [], 'jit_a', ['%'])).toEqual([]);
  });

  it('KILL takes only an integer thread id', () => {
    expect(killSql(42)).toBe('KILL CONNECTION 42');
    expect(killSql('18446744073709551615')).toBe('KILL CONNECTION 18446744073709551615');
    expect(killSql(42, 'QUERY')).toBe('KILL QUERY 42');
    expect(() => killSql('1; DROP USER x', 'QUERY')).toThrow(/not a thread id/);
    expect(() => killSql('1; DROP USER x')).toThrow();
  });

  it('the expiry event: UTC whole seconds rounded up; locks, kills, drops every host, deletes the ledger row', () => {
    const sql = createEventSql('jit_a', ['%', 'localhost'], new Date('2030-01-02T03:04:05.001Z'));
    expect(sql).toMatch(/^CREATE DEFINER = CURRENT_USER EVENT `jit`\.`expire_jit_a` ON SCHEDULE AT '2030-01-02 03:04:06' ON COMPLETION NOT PRESERVE /);
    expect(sql).toContain('ALTER USER IF EXISTS `jit_a`@`%`, `jit_a`@`localhost` ACCOUNT LOCK;');
    expect(sql).toContain('KILL CONNECTION tid;');
    expect(sql).toContain('DECLARE CONTINUE HANDLER FOR 1094 BEGIN END;');
    expect(sql).toContain('DROP USER IF EXISTS `jit_a`@`%`, `jit_a`@`localhost`;');
    expect(sql).toContain("DELETE FROM `jit`.`leases` WHERE login = 'jit_a';");
    expect(sql.indexOf('ACCOUNT LOCK')).toBeLessThan(sql.indexOf('KILL CONNECTION'));
    expect(sql.indexOf('KILL CONNECTION')).toBeLessThan(sql.indexOf('DROP USER'));
    expect(alterEventSql('jit_a', new Date('2030-01-02T03:04:05.000Z'))).toBe("ALTER EVENT `jit`.`expire_jit_a` ON SCHEDULE AT '2030-01-02 03:04:05'");
  });

  it('session setup: UTC and the server sql_mode minus the modes that change quoting', () => {
    expect(sessionSqlMode('STRICT_TRANS_TABLES,NO_BACKSLASH_ESCAPES,ANSI_QUOTES,NO_ENGINE_SUBSTITUTION')).toBe('STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION');
    expect(sessionSetupSql('')).toBe("SET SESSION time_zone = '+00:00', SESSION sql_mode = ''");
  });

  it('datetimes travel as UTC without a zone and come back as ISO instants', () => {
    expect(utcDatetime(new Date('2030-01-02T03:04:05.678Z'))).toBe('2030-01-02 03:04:05.678');
    expect(isoFromDatetime('2030-01-02 03:04:05.678000')).toBe('2030-01-02T03:04:05.678Z');
    expect(isoFromDatetime(null)).toBeNull();
    expect(isoFromDatetime('garbage')).toBeNull();
  });
});

describe('password hash', () => {
  it("is MariaDB's PASSWORD(): * + upper hex SHA1(SHA1(pw))", () => {
    // SELECT PASSWORD('secret') on MariaDB 10.11.
    expect(nativePasswordHash('secret')).toBe('*14E65567ABDB5135D0CFD9A70B3032C179A49EE7');
  });
});

describe('client hand-off', () => {
  const target = (over: Partial<ServerTarget> = {}): ServerTarget => ({ engine: 'mysql', host: 'db.internal', port: 3306, database: 'app', tls: 'disable', adminUser: 'a', ...over });

  it('the URI percent-encodes userinfo and the schema, and carries ssl-mode', () => {
    expect(buildUri(target(), 'jit_a', "p@ss:w/o'rd")).toBe('mysql://jit_a:p%40ss%3Aw%2Fo%27rd@db.internal:3306/app');
    expect(buildUri(target({ tls: 'require', database: 'a b' }), 'u', 'p')).toBe('mysql://u:p@db.internal:3306/a%20b?ssl-mode=REQUIRED');
    expect(buildUri(target({ tls: 'verify-full', host: '::1' }), 'u', 'p')).toBe('mysql://u:p@[::1]:3306/app?ssl-mode=VERIFY_IDENTITY');
  });

  it('clientEnv gives what the clients read, plus the user', () => {
    expect(clientEnv(target(), 'jit_a', 'pw')).toEqual({ MYSQL_HOST: 'db.internal', MYSQL_TCP_PORT: '3306', MYSQL_USER: 'jit_a', MYSQL_PWD: 'pw' });
  });

  it('option-file values are double-quoted with escapes', () => {
    expect(optionValue('plain')).toBe('"plain"');
    expect(optionValue('a"b\\c #d')).toBe('"a\\"b\\\\c #d"');
    expect(optionValue('x\ny')).toBe('"x\\ny"');
    expect(() => optionValue('a\0')).toThrow();
  });

  it('the option file forces TCP and adds MariaDB TLS options only when tls is on', () => {
    expect(optionFileText(target(), 'jit_a', 'pw')).toBe('[client]\nuser="jit_a"\npassword="pw"\nhost="db.internal"\nport=3306\nprotocol=TCP\n');
    expect(optionFileText(target({ tls: 'verify-full' }), 'u', 'p')).toContain('\n[client-mariadb]\nssl\nssl-verify-server-cert\n');
  });
});

describe('tls_ca on MySQL/MariaDB', () => {
  const dir = mkdtempSync(join(tmpdir(), 'jit-myca-'));
  const ca = join(dir, 'my ca.pem');
  writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
  const target = (over: Partial<ServerTarget> = {}): ServerTarget => ({ engine: 'mysql', host: 'db.internal', port: 3306, database: 'app', tls: 'verify-full', tlsCa: ca, adminUser: 'a', ...over });

  it('the URI carries ssl-ca beside ssl-mode, as MySQL Shell and sqlx read it', () => {
    const uri = buildUri(target(), 'u', 'p');
    expect(uri).toBe(`mysql://u:p@db.internal:3306/app?ssl-mode=VERIFY_IDENTITY&ssl-ca=${dir}/my%20ca.pem`);
    expect(new URL(uri).searchParams.get('ssl-ca')).toBe(ca);
  });

  it('the option file names it as ssl-ca, which mysql and mariadb both read', () => {
    expect(optionFileText(target(), 'u', 'p')).toContain(`\nprotocol=TCP\nssl-ca="${ca}"\n\n[client-mariadb]\nssl\nssl-verify-server-cert\n`);
    expect(optionFileText(target({ tls: 'disable' }), 'u', 'p')).not.toContain('ssl-ca');
  });

  it('mysql2 gets the CA; verify-full also checks the host name (verifyIdentity), require with a CA the chain', () => {
    expect(adminConnectionOptions(target(), 'pw').ssl).toEqual({ rejectUnauthorized: true, verifyIdentity: true, ca: expect.stringContaining('BEGIN CERTIFICATE') });
    expect(adminConnectionOptions(target({ tls: 'require' }), 'pw').ssl).toEqual({ rejectUnauthorized: true, ca: expect.stringContaining('BEGIN CERTIFICATE') });
    expect(adminConnectionOptions(target({ tls: 'require', tlsCa: undefined }), 'pw').ssl).toEqual({ rejectUnauthorized: false });
    expect(adminConnectionOptions(target({ tls: 'verify-full', tlsCa: undefined }), 'pw').ssl).toEqual({ rejectUnauthorized: true, verifyIdentity: true });
  });
});

describe('tls_cert and tls_key on MySQL/MariaDB', () => {
  const dir = mkdtempSync(join(tmpdir(), 'jit-mycert-'));
  const cert = join(dir, 'client cert.pem');
  const key = join(dir, "o'neil.key");
  writeFileSync(cert, '-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----\n');
  writeFileSync(key, '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n', { mode: 0o600 });
  const target = (over: Partial<ServerTarget> = {}): ServerTarget => ({ engine: 'mysql', host: 'db.internal', port: 3306, database: 'app', tls: 'require', tlsCert: cert, tlsKey: key, adminUser: 'a', ...over });

  it('the URI carries ssl-cert and ssl-key (percent-encoded, slashes kept)', () => {
    const uri = buildUri(target(), 'u', 'p');
    expect(uri).toBe(`mysql://u:p@db.internal:3306/app?ssl-mode=REQUIRED&ssl-cert=${dir}/client%20cert.pem&ssl-key=${dir}/o%27neil.key`);
    expect(new URL(uri).searchParams.get('ssl-key')).toBe(key);
    expect(buildUri(target({ tls: 'disable' }), 'u', 'p')).toBe('mysql://u:p@db.internal:3306/app');
  });

  it('the option file names them as ssl-cert and ssl-key, which mysql and mariadb both read', () => {
    expect(optionFileText(target(), 'u', 'p')).toContain(`\nprotocol=TCP\nssl-cert="${cert}"\nssl-key="${key}"\n\n[client-mariadb]\nssl\n`);
    expect(optionFileText(target({ tls: 'disable' }), 'u', 'p')).not.toContain('ssl-cert');
  });

  it('mysql2 presents them on the admin connection', () => {
    expect(adminConnectionOptions(target(), 'pw').ssl).toEqual({ rejectUnauthorized: false, cert: expect.stringContaining('BEGIN CERTIFICATE'), key: expect.stringContaining('PRIVATE KEY') });
    expect(adminConnectionOptions(target({ tls: 'verify-full' }), 'pw').ssl).toMatchObject({ verifyIdentity: true, cert: expect.any(String), key: expect.any(String) });
    expect(adminConnectionOptions(target({ tls: 'disable' }), 'pw').ssl).toBeUndefined();
  });
});

describe('small facts', () => {
  it('anonymous hosts other than % become extra hosts of the login', () => {
    expect(loginHosts([])).toEqual(['%']);
    expect(loginHosts(['localhost', 'vm', '%', 'localhost'])).toEqual(['%', 'localhost', 'vm']);
  });

  it('CURRENT_USER() becomes the GRANTEE form', () => {
    expect(granteeOf('jitadmin@%')).toBe("'jitadmin'@'%'");
    expect(granteeOf("o'neil@local@host")).toBe("'o''neil@local'@'host'");
  });

  it('the server flavour comes from VERSION() and @@version_comment', () => {
    expect(parseFlavor('10.11.19-MariaDB-0+deb12u1-log', 'Debian 12')).toEqual({ mariadb: true, version: [10, 11, 19] });
    const mysql = parseFlavor('8.4.2', 'MySQL Community Server - GPL');
    expect(mysql.mariadb).toBe(false);
    expect(atLeast(mysql, 8, 4)).toBe(true);
    expect(atLeast(parseFlavor('8.0.36', ''), 8, 4)).toBe(false);
  });

  it('driver errors get a kind once, at the boundary', () => {
    const ctx = { host: 'h', port: 1, user: 'a', database: 'app', phase: 'connect' as const };
    expect(translateMysqlError({ errno: 1045, code: 'ER_ACCESS_DENIED_ERROR', message: 'denied' }, ctx).kind).toBe('admin-auth');
    const shadowed = translateMysqlError({ errno: 1045, code: 'ER_ACCESS_DENIED_ERROR', message: "Access denied for user 'jitadmin'@'localhost' (using password: YES)" }, { ...ctx, user: 'jitadmin' });
    expect(shadowed.message).toMatch(/for 'jitadmin'@'localhost' \(a wrong password, or an anonymous ''@'localhost' account shadowing 'jitadmin'@'%'/);
    // A table-level admin is told 1142 for a table that does not exist, as for one it may not grant.
    const denied = translateMysqlError(
      { errno: 1142, code: 'ER_TABLEACCESS_DENIED_ERROR', message: "SELECT, GRANT command denied to user 'jit_admin'@'localhost' for table `app`.`nope`" },
      { ...ctx, user: 'jit_admin', phase: 'mint', name: 'shop' },
    );
    expect(denied.message).toBe('the policy grants on app.nope, which jit_admin may not grant on h:1: it does not exist, or jit_admin holds nothing on it WITH GRANT OPTION');
    expect(denied.hint).toMatch(/^create the table or fix the grants in the policy, or grant it to jit_admin WITH GRANT OPTION; run 'jit doctor shop'/);
    expect(denied.kind).toBe('missing-object');
    expect(translateMysqlError({ errno: 1142, message: 'denied' }, { ...ctx, phase: 'revoke' }).message).toMatch(/^the admin account a lacks a privilege/);
    const hostile = translateMysqlError({ errno: 1045, code: 'ER_ACCESS_DENIED_ERROR', message: "Access denied for user 'jitadmin'@'evil\x1b[2Jhost' (using password: YES)" }, { ...ctx, user: 'jitadmin' });
    expect(hostile.message).not.toContain('\x1b');
    expect(translateMysqlError({ code: 'ECONNREFUSED', message: 'x' }, ctx).kind).toBe('unreachable');
    expect(translateMysqlError({ code: 'HANDSHAKE_NO_SSL_SUPPORT', message: 'x' }, ctx).kind).toBe('tls');
    const mint = { ...ctx, phase: 'mint' as const };
    expect(translateMysqlError({ errno: 1146, message: 'no table' }, mint)).toMatchObject({ kind: 'missing-object', exitCode: 2 });
    expect(translateMysqlError({ errno: 1049, message: 'no db' }, mint).kind).toBe('missing-object');
    expect(translateMysqlError({ errno: 1959, message: 'Invalid role' }, mint).kind).toBe('missing-object');
    expect(translateMysqlError({ errno: 1396, message: 'exists' }, mint).kind).toBe('conflict');
    expect(translateMysqlError({ errno: 1045, message: 'denied' }, mint).kind).toBeUndefined();
  });
});
