import { describe, expect, it } from 'vitest';
import { JitError } from '../core/errors.js';
import { parsePolicy } from './parse.js';
import type { RoleConfig } from './types.js';

const HOSTILE = ['a"b', "o'neil\\", 'x"; DROP TABLE t; --'];
const P = 'databases.prod-db.roles.r';

/** A policy whose role `r` (key on line 10, col 7) has `body` from line 11, indented 8. */
function withRole(body: string, engine = 'postgres'): string {
  return [
    'version: 1',
    'databases:',
    '  prod-db:',
    `    engine: ${engine}`,
    '    host: db.internal',
    '    database: app',
    '    admin:',
    '      user: jit_admin',
    '    roles:',
    '      r:',
    body,
    '',
  ].join('\n');
}

/** Role `r` with one grant: privileges on line 12 (first item at col 26), the target on line 13 (col 13). */
function withGrant(privileges: string, target: string, engine = 'postgres'): string {
  return withRole(`        grants:\n          - privileges: ${privileges}\n            ${target}`, engine);
}

function role(text: string): RoleConfig {
  return parsePolicy(text, 'jit.yaml').databases['prod-db'].roles.r;
}

function refusal(text: string): string {
  try {
    parsePolicy(text, 'jit.yaml');
  } catch (e) {
    expect(e).toBeInstanceOf(JitError);
    expect((e as JitError).exitCode).toBe(2);
    return (e as JitError).message;
  }
  throw new Error('policy was accepted');
}

describe('role fields', () => {
  it('fills defaults, lowers the default ttl to a short max_ttl, and reads every field', () => {
    expect(role(withRole('        max_ttl: 10m\n        member_of: [analytics_ro]'))).toMatchObject({ ttlMs: 600_000, maxTtlMs: 600_000 });
    const r = role(withRole('        ttl: 1h30m\n        max_ttl: 2h\n        require_reason: true\n        connection_limit: 1\n        member_of: [a, a, b]'));
    expect(r).toMatchObject({ ttlMs: 5_400_000, maxTtlMs: 7_200_000, requireReason: true, connectionLimit: 1, memberOf: ['a', 'b'] });
  });

  it('refuses unknown role keys with a suggestion', () => {
    expect(refusal(withRole('        ttls: 1m'))).toBe(
      `jit.yaml:11:9: ${P}: unknown key "ttls"; allowed: ttl, max_ttl, require_reason, connection_limit, grants, member_of, statement_timeout, idle_timeout, transaction_timeout`,
    );
  });

  it('refuses bad durations, a ttl below 5s, and a ttl above max_ttl', () => {
    expect(refusal(withRole('        ttl: 15 minutes'))).toBe(`jit.yaml:11:14: ${P}.ttl: "15 minutes" is not a duration`);
    expect(refusal(withRole('        ttl: 900'))).toBe(`jit.yaml:11:14: ${P}.ttl: 900 is not a duration`);
    expect(refusal(withRole('        ttl: 3s'))).toBe(`jit.yaml:11:14: ${P}.ttl: ttl 3s is below the 5s minimum`);
    expect(refusal(withRole('        max_ttl: 3s'))).toBe(`jit.yaml:11:18: ${P}.max_ttl: max_ttl 3s is below the 5s minimum`);
    expect(refusal(withRole('        ttl: 2h\n        member_of: [a]'))).toBe(`jit.yaml:11:14: ${P}.ttl: ttl 2h is above max_ttl 1h`);
  });

  it('refuses a non-boolean require_reason and a connection_limit below 1', () => {
    expect(refusal(withRole('        require_reason: yes'))).toBe(`jit.yaml:11:25: ${P}.require_reason: must be true or false`);
    expect(refusal(withRole('        connection_limit: 0'))).toBe(`jit.yaml:11:27: ${P}.connection_limit: must be an integer from 1 to 10000`);
    expect(refusal(withRole('        connection_limit: -1'))).toBe(`jit.yaml:11:27: ${P}.connection_limit: must be an integer from 1 to 10000`);
  });

  it('refuses a role that grants nothing', () => {
    expect(refusal(withRole('        member_of: []'))).toBe(`jit.yaml:10:7: ${P}: role "r" grants nothing`);
    expect(refusal(withRole('        grants: []\n        ttl: 5m'))).toBe(`jit.yaml:10:7: ${P}: role "r" grants nothing`);
  });
});

describe('session limits', () => {
  const m = '        member_of: [a]\n';

  it('are absent unless set, and read as milliseconds when set', () => {
    expect(role(withRole(m)).limits).toEqual({});
    expect(role(withRole(`${m}        statement_timeout: 30s\n        idle_timeout: 5m\n        transaction_timeout: 1.5m`)).limits).toEqual({
      statementTimeoutMs: 30_000,
      idleTimeoutMs: 300_000,
      transactionTimeoutMs: 90_000,
    });
  });

  it('refuses a malformed limit, one under a whole second, and one above the default max_ttl', () => {
    expect(refusal(withRole(`${m}        statement_timeout: 30`))).toBe(`jit.yaml:12:28: ${P}.statement_timeout: 30 is not a duration`);
    expect(refusal(withRole(`${m}        idle_timeout: 0s`))).toBe(`jit.yaml:12:23: ${P}.idle_timeout: "0s" is not a duration`);
    expect(refusal(withRole(`${m}        statement_timeout: 0.5s`))).toBe(`jit.yaml:12:28: ${P}.statement_timeout: "0.5s" is not a duration`);
    expect(refusal(withRole(`${m}        statement_timeout: 2h`))).toBe(`jit.yaml:12:28: ${P}.statement_timeout: statement_timeout 2h is above the role's max_ttl 1h`);
  });

  it('refuses a limit above max_ttl with the reason', () => {
    expect(refusal(withRole(`        max_ttl: 10m\n${m}        idle_timeout: 11m`))).toBe(`jit.yaml:13:23: ${P}.idle_timeout: idle_timeout 11m is above the role's max_ttl 10m`);
  });

  it('refuses on MySQL/MariaDB the limits an account cannot carry, and takes statement_timeout', () => {
    const grant = '        grants:\n          - privileges: [SELECT]\n            tables: [orders]\n';
    expect(role(withRole(`${grant}        statement_timeout: 2s`, 'mysql')).limits).toEqual({ statementTimeoutMs: 2_000 });
    expect(refusal(withRole(`${grant}        idle_timeout: 1m`, 'mysql'))).toBe(
      `jit.yaml:14:23: ${P}.idle_timeout: MySQL/MariaDB has no idle_timeout: an account cannot carry its own idle limit (wait_timeout is server-wide or set by the session itself)`,
    );
    expect(refusal(withRole(`${grant}        transaction_timeout: 1m`, 'mysql'))).toBe(`jit.yaml:14:30: ${P}.transaction_timeout: MySQL/MariaDB has no transaction_timeout: the server has no transaction time limit`);
  });
});

describe('grant fields', () => {
  it('normalises privileges to upper case and drops duplicates', () => {
    const r = role(withGrant('[select, " Insert ", SELECT]', 'tables: [orders, public.orders, sales.q1]'));
    expect(r.grants).toEqual([
      { privileges: ['SELECT', 'INSERT'], tables: [{ schema: 'public', name: 'orders' }, { schema: 'sales', name: 'q1' }] },
    ]);
    expect(role(withGrant('[SELECT]', 'schema: reporting')).grants).toEqual([{ privileges: ['SELECT'], schema: 'reporting' }]);
    expect(role(withGrant('[usage]', 'sequences: [orders_id_seq]')).grants).toEqual([
      { privileges: ['USAGE'], sequences: [{ schema: 'public', name: 'orders_id_seq' }] },
    ]);
  });

  it('refuses unknown grant keys, and a grant with no or two targets', () => {
    expect(refusal(withGrant('[SELECT]', 'table: [orders]'))).toBe(
      `jit.yaml:13:13: ${P}.grants[0]: unknown key "table"; allowed: privileges, tables, schema, sequences`,
    );
    expect(refusal(withRole('        grants:\n          - privileges: [SELECT]'))).toBe(
      `jit.yaml:12:13: ${P}.grants[0]: a grant needs one of tables, schema or sequences`,
    );
    expect(refusal(withGrant('[SELECT]', 'tables: [orders]\n            schema: public'))).toBe(
      `jit.yaml:14:21: ${P}.grants[0].schema: use only one of tables, schema or sequences per grant`,
    );
    expect(refusal(withRole('        grants: {}'))).toBe(`jit.yaml:11:17: ${P}.grants: must be a list`);
  });

  it('requires a non-empty list of privileges', () => {
    expect(refusal(withRole('        grants:\n          - tables: [orders]'))).toBe(`jit.yaml:12:13: ${P}.grants[0]: "privileges" is required`);
    expect(refusal(withGrant('[]', 'tables: [orders]'))).toBe(`jit.yaml:12:25: ${P}.grants[0].privileges: must list at least one privilege`);
    expect(refusal(withGrant('SELECT', 'tables: [orders]'))).toBe(`jit.yaml:12:25: ${P}.grants[0].privileges: must be a list`);
    expect(refusal(withGrant('[1]', 'tables: [orders]'))).toBe(`jit.yaml:12:26: ${P}.grants[0].privileges: must be a privilege such as SELECT`);
  });

  it('refuses malformed table names, wildcards and *.*', () => {
    const at = `jit.yaml:13:22: ${P}.grants[0].tables`;
    expect(refusal(withGrant('[SELECT]', 'tables: ["public.orders;drop"]'))).toBe(`${at}: "public.orders;drop" is not a table name`);
    expect(refusal(withGrant('[SELECT]', 'tables: [a.b.c]'))).toBe(`${at}: "a.b.c" is not a table name`);
    expect(refusal(withGrant('[SELECT]', 'tables: ["*"]'))).toBe(`${at}: "*": wildcards are refused`);
    expect(refusal(withGrant('[SELECT]', 'tables: [public.*]'))).toBe(`${at}: "public.*": wildcards are refused`);
    expect(refusal(withGrant('[SELECT]', 'tables: ["*.*"]'))).toBe(`${at}: "*.*" would grant every table of every schema, which escalates`);
    expect(refusal(withGrant('[SELECT]', 'tables: []'))).toBe(`jit.yaml:13:21: ${P}.grants[0].tables: must list at least one table`);
    expect(refusal(withGrant('[SELECT]', 'schema: "*"'))).toBe(`jit.yaml:13:21: ${P}.grants[0].schema: "*" would grant every schema, which escalates`);
  });

  it('refuses sequences on mysql, where they do not exist', () => {
    expect(refusal(withGrant('[USAGE]', 'sequences: [s]', 'mysql'))).toBe(`jit.yaml:13:24: ${P}.grants[0].sequences: MySQL/MariaDB has no sequences to grant on`);
  });
});

describe('privileges', () => {
  const at = `jit.yaml:12:26: ${P}.grants[0].privileges`;
  const table = (p: string, engine?: string) => refusal(withGrant(`["${p}"]`, 'tables: [orders]', engine));

  it('refuses everything that escalates, saying so', () => {
    for (const p of ['ALL', 'all privileges', 'SUPERUSER', 'CREATEROLE', 'CREATEDB', 'BYPASSRLS', 'REPLICATION', 'LOGIN', 'CREATE', 'TEMPORARY', 'TEMP', 'EXECUTE', 'FILE', 'SUPER', 'PROCESS', 'SHUTDOWN']) {
      expect(table(p)).toBe(`${at}: "${p}" escalates and is refused`);
    }
    for (const p of ['SELECT WITH GRANT OPTION', 'grant option']) {
      expect(table(p)).toBe(`${at}: "${p}" escalates: a grant option lets the login hand its privileges on to others`);
    }
    for (const p of ['pg_execute_server_program', 'pg_read_server_files', 'pg_write_server_files', 'PG_READ_ALL_DATA']) {
      expect(table(p)).toBe(`${at}: "${p}" is a predefined pg_* role, which escalates`);
    }
    expect(table('connect')).toBe(`${at}: CONNECT is granted automatically`);
  });

  it('refuses privileges outside the allow-list of the target', () => {
    expect(table('USAGE')).toBe(`${at}: "USAGE" is not a privilege jit grants on tables`);
    expect(table('TRUNCATE', 'mysql')).toBe(`${at}: MySQL has no TRUNCATE privilege (TRUNCATE TABLE needs DROP, which jit never grants)`);
    expect(refusal(withGrant('[DELETE]', 'sequences: [s]'))).toBe(`${at}: "DELETE" is not a privilege jit grants on sequences`);
  });
});

describe('member_of', () => {
  const at = `jit.yaml:11:21: ${P}.member_of`;
  const member = (name: string) => refusal(withRole(`        member_of: [${JSON.stringify(name)}]`));

  it('refuses predefined, superuser, jit-reserved and admin roles', () => {
    expect(member('pg_monitor')).toBe(`${at}: "pg_monitor" is a predefined pg_* role; membership escalates`);
    expect(member('PG_EXECUTE_SERVER_PROGRAM')).toBe(`${at}: "PG_EXECUTE_SERVER_PROGRAM" is a predefined pg_* role; membership escalates`);
    expect(member('postgres')).toBe(`${at}: "postgres" is a superuser role; membership escalates`);
    expect(member('rds_superuser')).toBe(`${at}: "rds_superuser" is a superuser role; membership escalates`);
    expect(member('jit')).toBe(`${at}: "jit" is reserved for jit's own roles`);
    expect(member('jit_alice_0123456789')).toBe(`${at}: "jit_alice_0123456789" is reserved for jit's own roles`);
    expect(member('jit_admin')).toBe(`${at}: "jit_admin" is reserved for jit's own roles`);
    expect(refusal(withRole('        member_of: [ops_admin]').replace('user: jit_admin', 'user: ops_admin'))).toBe(
      `${at}: "ops_admin" is the admin login; membership escalates`,
    );
  });
});

// Inputs an attack on the validator used; each once got past it (issue 6, item 11 and item 8).
describe('hostile input corpus', () => {
  const grantOk = '        grants: [{privileges: [SELECT], tables: [t]}]';

  it('refuses a connection_limit beyond int4 that reached the server as a syntax error', () => {
    expect(refusal(withRole(`        connection_limit: 2147483648\n${grantOk}`))).toBe(
      `jit.yaml:11:27: ${P}.connection_limit: must be an integer from 1 to 10000`,
    );
    expect(refusal(withRole(`        connection_limit: 10001\n${grantOk}`))).toMatch(/must be an integer from 1 to 10000$/);
    expect(refusal(withRole(`        connection_limit: 1e400\n${grantOk}`))).toMatch(/must be an integer from 1 to 10000$/);
    expect(role(withRole(`        connection_limit: 10000\n${grantOk}`)).connectionLimit).toBe(10_000);
  });

  it('refuses max_ttl 200000000d, which gave "Invalid time value", and any ttl above 30 days', () => {
    expect(refusal(withRole(`        max_ttl: 200000000d\n${grantOk}`))).toBe(
      `jit.yaml:11:18: ${P}.max_ttl: max_ttl "200000000d" is above the 30d maximum`,
    );
    expect(refusal(withRole(`        max_ttl: 31d\n${grantOk}`))).toMatch(/max_ttl "31d" is above the 30d maximum$/);
    expect(refusal(withRole(`        max_ttl: 720h1s\n${grantOk}`))).toMatch(/max_ttl "720h1s" is above the 30d maximum$/);
    expect(refusal(withRole(`        ttl: 99999999999999999999d\n${grantOk}`))).toMatch(/ttl "99999999999999999999d" is above the 30d maximum$/);
    expect(role(withRole(`        ttl: 30d\n        max_ttl: 720h\n${grantOk}`))).toMatchObject({ ttlMs: 30 * 86_400_000, maxTtlMs: 30 * 86_400_000 });
  });

  it.each([
    ['tables: [pg_catalog.pg_authid]', 'pg_catalog'],
    ['tables: [information_schema.tables]', 'information_schema'],
    ['tables: [pg_toast.pg_toast_1260]', 'pg_toast'],
    ['tables: [pg_temp_3.t]', 'pg_temp_3'],
    ['tables: [PG_CATALOG.pg_authid]', 'PG_CATALOG'],
    ['schema: pg_catalog', 'pg_catalog'],
    ['schema: information_schema', 'information_schema'],
    ['schema: pg_toast_temp_1', 'pg_toast_temp_1'],
    ['schema: pg_temp', 'pg_temp'],
  ])('refuses the system schema in %s', (target, schema) => {
    const at = target.startsWith('schema') ? '13:21' : '13:22';
    const kind = target.startsWith('schema') ? 'schema' : 'tables';
    expect(refusal(withGrant('[SELECT]', target))).toBe(
      `jit.yaml:${at}: ${P}.grants[0].${kind}: schema "${schema}" belongs to the server itself, and a grant there escalates`,
    );
  });

  it('refuses system sequences, and mysql system schemas', () => {
    expect(refusal(withGrant('[USAGE]', 'sequences: [pg_catalog.s]'))).toMatch(/schema "pg_catalog" belongs to the server itself/);
    expect(refusal(withGrant('[SELECT]', 'tables: [mysql.user]', 'mysql'))).toMatch(/schema "mysql" belongs to the server itself/);
    expect(refusal(withGrant('[SELECT]', 'schema: performance_schema', 'mysql'))).toMatch(/belongs to the server itself/);
    // An application schema whose name merely starts like one is fine.
    expect(role(withGrant('[SELECT]', 'tables: [pgdata.t, mysql_app.t]')).grants[0].tables).toHaveLength(2);
  });

  it('refuses owner: postgres and the admin itself as owner', () => {
    for (const owner of ['postgres', 'jit_admin']) {
      expect(refusal(withRole(grantOk).replace('    roles:', `    owner: ${owner}\n    roles:`))).toBe(
        `jit.yaml:9:12: databases.prod-db.owner: "${owner}" cannot own what logins leave behind`,
      );
    }
  });

  it('bounds list sizes: 1001 tables in one grant, 101 grants, 101 member_of roles', () => {
    const tables = Array.from({ length: 1001 }, (_, i) => `t${i}`).join(', ');
    expect(refusal(withGrant('[SELECT]', `tables: [${tables}]`))).toBe(
      `jit.yaml:13:21: ${P}.grants[0].tables: lists 1001 tables; at most 1000 are accepted`,
    );
    expect(role(withGrant('[SELECT]', `tables: [${tables.replace(/, t1000$/, '')}]`)).grants[0].tables).toHaveLength(1000);
    const grants = Array.from({ length: 101 }, (_, i) => `          - {privileges: [SELECT], tables: [t${i}]}`).join('\n');
    expect(refusal(withRole(`        grants:\n${grants}`))).toMatch(/grants: lists 101 grants; at most 100 are accepted$/);
    const roles = Array.from({ length: 101 }, (_, i) => `g${i}`).join(', ');
    expect(refusal(withRole(`        member_of: [${roles}]`))).toMatch(/member_of: lists 101 roles; at most 100 are accepted$/);
  });

  it('refuses a policy over 1 MiB before parsing it (a 10 MB policy was still validating after 300 s)', () => {
    const huge = withGrant('[SELECT]', 'tables: [t]') + `# ${'x'.repeat(1024 * 1024)}\n`;
    expect(refusal(huge)).toMatch(/^jit\.yaml: the policy is \d+ bytes; at most 1048576 \(1 MiB\) are accepted$/);
  });

  it('finds a duplicate key among 10 000 roles (checked in one pass, not key by key)', () => {
    const many = Array.from({ length: 10_000 }, (_, i) => `      r${i}: {member_of: [g]}`);
    many.push('      r5: {member_of: [g]}');
    const text = withRole('        member_of: [g]').replace('      r:\n        member_of: [g]\n', `${many.join('\n')}\n`);
    expect(refusal(text)).toBe('jit.yaml:10010:7: duplicate key "r5"');
  });
});

describe('hostile identifiers', () => {
  it.each(HOSTILE)('refuses %j as a table, schema, sequence, role, member_of, database and owner', (name) => {
    const q = JSON.stringify(name);
    expect(refusal(withGrant('[SELECT]', `tables: [${q}]`))).toBe(`jit.yaml:13:22: ${P}.grants[0].tables: ${q} is not a table name`);
    expect(refusal(withGrant('[SELECT]', `tables: [${JSON.stringify(`public.${name}`)}]`))).toMatch(/is not a table name$/);
    expect(refusal(withGrant('[SELECT]', `schema: ${q}`))).toBe(`jit.yaml:13:21: ${P}.grants[0].schema: ${q} is not a schema name`);
    expect(refusal(withGrant('[USAGE]', `sequences: [${q}]`))).toMatch(/is not a sequence name$/);
    expect(refusal(withRole('        member_of: [a]').replace('      r:', `      ${q}:`))).toBe(
      `jit.yaml:10:7: databases.prod-db.roles: ${q} is not a role name`,
    );
    expect(refusal(withRole(`        member_of: [${q}]`))).toBe(`jit.yaml:11:21: ${P}.member_of: ${q} is not a role name`);
    expect(refusal(withRole('        member_of: [a]').replace('database: app', `database: ${q}`))).toBe(
      `jit.yaml:6:15: databases.prod-db.database: ${q} is not a database name`,
    );
    expect(refusal(withRole('        member_of: [a]').replace('    roles:', `    owner: ${q}\n    roles:`))).toBe(
      `jit.yaml:9:12: databases.prod-db.owner: ${q} is not a role name`,
    );
  });
});
