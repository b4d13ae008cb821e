import { describe, expect, it } from 'vitest';
import pg from 'pg';
import type { LeaseMarker } from '../engine.js';
import { JitError } from '../../core/errors.js';
import { escapeIdentifier, escapeLiteral, ident, timestampLiteral } from './postgres-quote.js';
import {
  markerGrantSql,
  ADMIN_PRIVILEGES_SQL,
  LIST_LOGINS_SQL,
  MINT_LOCK_KEY,
  OWNED_DATABASES_SQL,
  ROLE_INFO_SQL,
  SESSIONS_SQL,
  accessSql,
  blockLoginSql,
  dollarQuote,
  commentSql,
  dropOwnedSql,
  dropRoleSql,
  ensureMarkerRoleSql,
  extendSql,
  grantLoginToAdminSql,
  grantStatements,
  mintSql,
  terminateSql,
  OWNED_DATABASES_MANY_SQL,
  REVOKE_LOCK_MANY_SQL,
  ROLES_INFO_SQL,
  SESSIONS_LEFT_SQL,
  TERMINATE_MANY_SQL,
  blockLoginsSql,
  dropOwnedManySql,
  revokeSequenceGrantsSql,
  dropRolesSql,
  CRON_LAUNCHER_DATABASE,
} from './postgres-sql.js';
import { ensureGroupSql, groupMembershipSql, groupName } from './postgres-group.js';

const HOSTILE = ['a"b', "o'neil\\", 'x"; DROP TABLE t; --'] as const;
const Q = {
  'a"b': '"a""b"',
  "o'neil\\": `"o'neil\\"`,
  'x"; DROP TABLE t; --': '"x""; DROP TABLE t; --"',
} as const;

const marker: LeaseMarker = {
  id: 'l0',
  database: 'prod"db',
  role: "o'neil\\",
  requester: 'x"; DROP TABLE t; --',
  requester_host: 'h',
  reason: `it's "urgent" \\ now`,
  created_at: '2030-01-01T00:00:00.000Z',
  expires_at: '2030-01-01T00:15:00.000Z',
  max_expires_at: '2030-01-01T01:00:00.000Z',
};

describe('quoting', () => {
  it('matches pg.escapeIdentifier and pg.escapeLiteral character for character', () => {
    const samples = [...HOSTILE, '', 'plain', "''", '\\\\', 'ünïcødé 🐘', 'E\'x\'', '$$', '"', "'"];
    for (const s of samples) {
      expect(escapeIdentifier(s)).toBe(pg.escapeIdentifier(s));
      expect(escapeLiteral(s)).toBe(pg.escapeLiteral(s));
    }
  });

  it('refuses identifiers PostgreSQL would truncate or cannot hold', () => {
    expect(ident('a'.repeat(63))).toBe(`"${'a'.repeat(63)}"`);
    expect(() => ident('a'.repeat(64))).toThrow(JitError);
    expect(() => ident('é'.repeat(32))).toThrow(/63 bytes/); // 64 bytes in UTF-8
    expect(() => ident('')).toThrow(JitError);
    expect(() => ident('a\u0000b')).toThrow(JitError);
  });

  it('writes timestamps with an explicit UTC offset', () => {
    expect(timestampLiteral(new Date('2030-01-02T03:04:05.678Z'))).toBe("'2030-01-02T03:04:05.678+00'");
  });
});

describe('grant statements', () => {
  it.each(HOSTILE)('quotes every name: %s', (name) => {
    const q = Q[name];
    const stmts = grantStatements(
      name,
      name,
      [
        { privileges: ['SELECT', 'UPDATE'], tables: [{ schema: name, name }, { schema: 'public', name: 'orders' }] },
        { privileges: ['SELECT'], schema: name },
        { privileges: ['USAGE', 'SELECT'], sequences: [{ schema: name, name }] },
      ],
      [name],
    );
    const l = escapeLiteral(name);
    expect(stmts).toEqual([
      'DO $jit$ BEGIN ' +
        `IF NOT pg_catalog.has_database_privilege(${l}, ${l}, 'CONNECT') THEN GRANT CONNECT ON DATABASE ${q} TO ${q}; END IF; ` +
        `IF NOT pg_catalog.has_schema_privilege(${l}, ${l}, 'USAGE') THEN GRANT USAGE ON SCHEMA ${q} TO ${q}; END IF; ` +
        `IF NOT pg_catalog.has_schema_privilege(${l}, 'public', 'USAGE') THEN GRANT USAGE ON SCHEMA "public" TO ${q}; END IF; ` +
        'END $jit$',
      `GRANT SELECT, UPDATE ON TABLE ${q}.${q}, "public"."orders" TO ${q}`,
      `GRANT SELECT ON ALL TABLES IN SCHEMA ${q} TO ${q}`,
      `GRANT USAGE, SELECT ON SEQUENCE ${q}.${q} TO ${q}`,
      `GRANT ${q} TO ${q}`,
    ]);
  });

  it('lets only allow-listed privilege keywords through (they cannot be quoted)', () => {
    const bad = (privileges: string[], kind: 'tables' | 'sequences') =>
      grantStatements('jit_u', 'app', [{ privileges, [kind]: [{ schema: 'public', name: 't' }] }], []);
    expect(() => bad(['SELECT; DROP TABLE t'], 'tables')).toThrow(JitError);
    expect(() => bad(['USAGE'], 'tables')).toThrow(/USAGE/);
    expect(() => bad(['DELETE'], 'sequences')).toThrow(/DELETE/);
    expect(bad(['select', 'SELECT'], 'tables')[1]).toBe('GRANT SELECT ON TABLE "public"."t" TO "jit_u"');
  });
});

describe('dollarQuote', () => {
  it('picks a tag the body cannot close early', () => {
    expect(dollarQuote(' x ')).toBe('$jit$ x $jit$');
    expect(dollarQuote(" '$jit$' ")).toBe("$jit1$ '$jit$' $jit1$");
    expect(dollarQuote(' "a$jit') ).toBe('$jit1$ "a$jit$jit1$');
  });

  it('keeps a hostile login holding the tag inside the DO body', () => {
    const sql = accessSql('jit_$jit$; DROP TABLE t; --', 'app', []);
    expect(sql.startsWith('DO $jit1$ ')).toBe(true);
    expect(sql.endsWith(' $jit1$')).toBe(true);
    expect(sql.slice(10, -7)).not.toContain('$jit1$');
  });
});

describe('markerGrantSql', () => {
  it('grants the marker WITHOUT inherit or set on 16+, only to a marker holding nothing on 15; a hostile login stays one quoted name', () => {
    const sql = markerGrantSql('x"; DROP TABLE t; --');
    expect(sql).toContain(`EXECUTE 'GRANT "jit" TO "x""; DROP TABLE t; --" WITH INHERIT FALSE, SET FALSE'`);
    expect(sql).toContain(`EXECUTE 'GRANT "jit" TO "x""; DROP TABLE t; --"'; END IF`);
    expect(sql).toMatch(/>= 160000 THEN/);
    expect(sql).toMatch(/pg_shdepend/);
  });
});

describe('mint', () => {
  it('is one transaction: lock, marker role, role with verifier, comment, marker membership, grants, now()', () => {
    const sql = mintSql({
      login: 'x"; DROP TABLE t; --',
      verifier: 'SCRAM-SHA-256$4096:c2FsdA==$c3RvcmVk:c2VydmVy',
      validUntil: new Date('2030-01-01T00:15:00Z'),
      connectionLimit: 3,
      marker,
      database: 'app',
      grants: [{ privileges: ['SELECT'], tables: [{ schema: 'public', name: 'a"b' }] }],
      memberOf: [],
    });
    const login = Q['x"; DROP TABLE t; --'];
    expect(sql.split(';\n')).toEqual([
      'BEGIN',
      "SET LOCAL statement_timeout = '30s'",
      `SELECT pg_catalog.pg_advisory_xact_lock(${MINT_LOCK_KEY})`,
      ensureMarkerRoleSql(),
      `CREATE ROLE ${login} WITH LOGIN INHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS CONNECTION LIMIT 3 ` +
        `VALID UNTIL '2030-01-01T00:15:00.000+00' PASSWORD 'SCRAM-SHA-256$4096:c2FsdA==$c3RvcmVk:c2VydmVy'`,
      commentSql('x"; DROP TABLE t; --', marker),
      markerGrantSql('x"; DROP TABLE t; --'),
      grantLoginToAdminSql('x"; DROP TABLE t; --'),
      accessSql('x"; DROP TABLE t; --', 'app', ['public']),
      `GRANT SELECT ON TABLE "public"."a""b" TO ${login}`,
      `SELECT pg_catalog.clock_timestamp() AS server_now, ${CRON_LAUNCHER_DATABASE} AS cron_database`,
      'COMMIT',
    ]);
  });

  it("through the role's group: no lock and no grant of its own, the group ensured first, then the membership", () => {
    const group = { policyDatabase: 'prod"db', database: 'app', admin: 'jit_admin', role: "o'neil\\", grants: [{ privileges: ['SELECT'], tables: [{ schema: 'public', name: 'a"b' }] }], memberOf: [] };
    const sql = mintSql({
      login: 'x"; DROP TABLE t; --',
      verifier: 'v',
      validUntil: new Date('2030-01-01T00:15:00Z'),
      connectionLimit: -1,
      marker,
      database: 'app',
      grants: group.grants,
      memberOf: [],
      group,
    });
    const login = Q['x"; DROP TABLE t; --'];
    expect(sql.split(';\n')).toEqual([
      'BEGIN',
      "SET LOCAL statement_timeout = '30s'",
      ensureMarkerRoleSql(),
      ensureGroupSql(group),
      `CREATE ROLE ${login} WITH LOGIN INHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS VALID UNTIL '2030-01-01T00:15:00.000+00' PASSWORD 'v'`,
      commentSql('x"; DROP TABLE t; --', marker),
      markerGrantSql('x"; DROP TABLE t; --'),
      grantLoginToAdminSql('x"; DROP TABLE t; --'),
      groupMembershipSql(groupName(group), 'x"; DROP TABLE t; --'),
      `SELECT pg_catalog.clock_timestamp() AS server_now, ${CRON_LAUNCHER_DATABASE} AS cron_database`,
      'COMMIT',
    ]);
  });

  it('omits CONNECTION LIMIT when unlimited', () => {
    const sql = mintSql({ login: 'jit_u', verifier: 'v', validUntil: new Date(0), connectionLimit: -1, marker, database: 'd', grants: [], memberOf: [] });
    expect(sql).toContain(`NOBYPASSRLS VALID UNTIL '1970-01-01T00:00:00.000+00' PASSWORD 'v'`);
  });

  it('creates the marker role only when missing, tolerating a concurrent creator, refusing a login role named jit', () => {
    expect(ensureMarkerRoleSql()).toBe(
      "DO $jit$ BEGIN IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'jit' AND (rolcanlogin OR rolsuper)) THEN " +
        "RAISE EXCEPTION 'role jit exists and can log in, but jit needs it as its NOLOGIN marker role' USING ERRCODE = 'JIT01'; END IF; " +
        `IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'jit') THEN CREATE ROLE "jit" NOLOGIN; ` +
        "COMMENT ON ROLE \"jit\" IS 'jit marker: members are short-lived logins minted by jit; grant this role nothing'; END IF; " +
        'EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $jit$',
    );
  });

  it('stores the marker as JSON in a literal that survives quotes and backslashes', () => {
    const sql = commentSql('a"b', marker);
    const json = JSON.stringify(marker);
    expect(sql).toBe(`COMMENT ON ROLE "a""b" IS  E'${json.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`);
    // Undo the literal quoting as the server does for E'' strings: the JSON comes back intact.
    const body = sql.slice(sql.indexOf("E'") + 2, -1).replace(/''/g, "'").replace(/\\\\/g, '\\');
    expect(JSON.parse(body)).toEqual(marker);
  });
});

describe('extend', () => {
  it.each(HOSTILE)('moves VALID UNTIL and the marker in one transaction: %s', (name) => {
    expect(extendSql(name, new Date('2030-01-01T01:00:00Z'), marker).split(';\n')).toEqual([
      'BEGIN',
      `DO ${dollarQuote(
        `BEGIN IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = ${escapeLiteral(name)} AND rolvaliduntil IS NOT NULL AND rolvaliduntil <= pg_catalog.now()) THEN RAISE EXCEPTION 'login has expired on the server' USING ERRCODE = 'JIT02'; END IF; END`,
      )}`,
      `ALTER ROLE ${Q[name]} VALID UNTIL '2030-01-01T01:00:00.000+00'`,
      commentSql(name, marker),
      'COMMIT',
    ]);
  });
});

/** The admin's membership in a login: with INHERIT on 16+ (where it already holds ADMIN only), none for a superuser. */
const adminMembership = (name: string) =>
  `DO ${dollarQuote(
    `BEGIN IF NOT pg_catalog.pg_has_role(CURRENT_USER, ${escapeLiteral(name)}, 'USAGE') THEN ` +
      `IF pg_catalog.current_setting('server_version_num')::int >= 160000 THEN EXECUTE ${escapeLiteral(`GRANT ${ident(name)} TO CURRENT_USER WITH INHERIT TRUE, SET FALSE`)}; ` +
      `ELSE EXECUTE ${escapeLiteral(`GRANT ${ident(name)} TO CURRENT_USER`)}; END IF; END IF; END`,
  )}`;

describe('revoke', () => {
  it.each(HOSTILE)('quotes the login and owner in every step: %s', (name) => {
    const q = Q[name];
    expect(grantLoginToAdminSql(name)).toBe(adminMembership(name));
    expect(blockLoginSql(name)).toBe(`ALTER ROLE ${q} NOLOGIN`);
    const lock = `SELECT pg_catalog.pg_advisory_xact_lock(${MINT_LOCK_KEY})`;
    expect(dropOwnedSql(name)).toBe(`${lock};\n${revokeSequenceGrantsSql([name])};\nDROP OWNED BY ${q}`);
    expect(dropOwnedSql(name, name)).toBe(`${lock};\nREASSIGN OWNED BY ${q} TO ${q};\n${revokeSequenceGrantsSql([name])};\nDROP OWNED BY ${q}`);
    expect(dropRoleSql(name)).toBe(`DROP ROLE IF EXISTS ${q}`);
    // The login's name goes in as a literal; the server quotes what it revokes on (format('%I')).
    expect(revokeSequenceGrantsSql([name])).toContain(`g.rolname = ANY (ARRAY[${pg.escapeLiteral(name)}]::text[])`);
  });

  it('finds sessions by usesysid and waits for them to end on PostgreSQL 14+', () => {
    expect(terminateSql(150004)).toBe(
      'SELECT count(*) FILTER (WHERE pg_catalog.pg_terminate_backend(pid, 5000))::int AS terminated FROM pg_catalog.pg_stat_activity ' +
        'WHERE usesysid = $1 AND pid <> pg_catalog.pg_backend_pid()',
    );
    expect(terminateSql(130000)).toContain('pg_terminate_backend(pid))');
  });

  it('takes values as bind parameters, and finds logins by membership, never by name pattern', () => {
    expect(ROLE_INFO_SQL).toContain('WHERE r.rolname = $1');
    expect(OWNED_DATABASES_SQL).toContain("s.refclassid = 'pg_catalog.pg_authid'::regclass AND s.refobjid = $1");
    for (const sql of [ROLE_INFO_SQL, LIST_LOGINS_SQL, SESSIONS_SQL, ADMIN_PRIVILEGES_SQL]) {
      expect(sql).not.toMatch(/LIKE/i);
      expect(sql).toContain("'jit'");
    }
  });
});

describe('revoking many logins together', () => {
  it('quotes every login and the owner in the batched steps', () => {
    const names = [...HOSTILE];
    const qs = names.map((n) => Q[n]);
    expect(blockLoginsSql(names, [names[1]!]).split(';\n')).toEqual([
      'BEGIN',
      adminMembership(names[1]!),
      ...qs.map((q) => `ALTER ROLE ${q} NOLOGIN`),
      'COMMIT',
    ]);
    const lock = `SELECT pg_catalog.pg_advisory_xact_lock(${MINT_LOCK_KEY})`;
    expect(dropOwnedManySql(names)).toBe(`${lock};\n${revokeSequenceGrantsSql(names)};\nDROP OWNED BY ${qs.join(', ')}`);
    expect(dropOwnedManySql(names, 'o"w')).toBe(`${lock};\nREASSIGN OWNED BY ${qs.join(', ')} TO "o""w";\n${revokeSequenceGrantsSql(names)};\nDROP OWNED BY ${qs.join(', ')}`);
    expect(dropRolesSql(names)).toBe(`DROP ROLE IF EXISTS ${qs.join(', ')}`);
    expect(() => dropRolesSql(['a'.repeat(64)])).toThrow(JitError);
  });

  it('takes the logins and oids as array parameters, signals without waiting, finds sessions by usesysid', () => {
    expect(ROLES_INFO_SQL).toContain('WHERE r.rolname = ANY($1::text[])');
    expect(ROLES_INFO_SQL).toContain("'jit'");
    expect(REVOKE_LOCK_MANY_SQL).toContain('unnest($1::text[])');
    expect(TERMINATE_MANY_SQL).toContain('pg_catalog.pg_terminate_backend(a.pid))');
    expect(TERMINATE_MANY_SQL).toContain('a.usesysid = ANY($1::oid[])');
    expect(SESSIONS_LEFT_SQL).toContain('a.usesysid = ANY($1::oid[])');
    expect(OWNED_DATABASES_MANY_SQL).toContain('s.refobjid = ANY($1::oid[])');
    for (const sql of [ROLES_INFO_SQL, TERMINATE_MANY_SQL, SESSIONS_LEFT_SQL]) expect(sql).not.toMatch(/LIKE/i);
  });
});
