import { describe, expect, it } from 'vitest';
import { MINT_LOCK_KEY } from './postgres-sql-common.js';
import { ensureGroupSql, groupComment, groupDigest, groupMembershipSql, groupName, type GroupSpec } from './postgres-group.js';

const HOSTILE = ['a"b', "o'neil\\", 'x"; DROP TABLE t; --'] as const;

const spec = (over: Partial<GroupSpec> = {}): GroupSpec => ({
  policyDatabase: 'prod-db',
  database: 'app',
  role: 'readonly',
  admin: 'jit_admin',
  grants: [{ privileges: ['SELECT'], tables: [{ schema: 'public', name: 'orders' }] }],
  memberOf: [],
  ...over,
});

describe('group name', () => {
  it('is jitgroup_<role>_<hash>: never jit_, unique per policy database, server database, role and admin', () => {
    const name = groupName(spec());
    expect(name).toMatch(/^jitgroup_readonly_[0-9a-f]{10}$/);
    expect(name.startsWith('jit_')).toBe(false);
    const others = [spec({ policyDatabase: 'other' }), spec({ database: 'app2' }), spec({ role: 'readonly2' }), spec({ admin: 'other_admin' })].map(groupName);
    expect(new Set([name, ...others]).size).toBe(5);
    // The grants are what the group holds, not who it is.
    expect(groupName(spec({ grants: [] }))).toBe(name);
  });

  it('fits 63 bytes with a long multi-byte role name, never splitting a character', () => {
    const name = groupName(spec({ role: 'ü'.repeat(40) }));
    expect(Buffer.byteLength(name, 'utf8')).toBeLessThanOrEqual(63);
    expect(name).toMatch(/^jitgroup_(ü)+_[0-9a-f]{10}$/);
    expect(groupName(spec({ role: 'ü'.repeat(40) }))).not.toBe(groupName(spec({ role: 'ü'.repeat(41) })));
  });
});

describe('digest', () => {
  it('changes with the grants, the member_of groups and the server database, not with case or duplicates of privileges', () => {
    const d = groupDigest(spec());
    expect(groupDigest(spec({ grants: [{ privileges: ['select', 'SELECT'], tables: [{ schema: 'public', name: 'orders' }] }] }))).toBe(d);
    expect(groupDigest(spec({ grants: [{ privileges: ['SELECT', 'UPDATE'], tables: [{ schema: 'public', name: 'orders' }] }] }))).not.toBe(d);
    expect(groupDigest(spec({ memberOf: ['analytics_ro'] }))).not.toBe(d);
    expect(groupDigest(spec({ database: 'app2' }))).not.toBe(d);
  });

  it('is stored as JSON under jit_group in the comment', () => {
    expect(JSON.parse(groupComment(spec()))).toEqual({ jit_group: { database: 'prod-db', role: 'readonly', digest: groupDigest(spec()) } });
  });
});

describe('ensureGroupSql', () => {
  it('checks without a lock, then takes the mint lock and checks again before it rebuilds', () => {
    const sql = ensureGroupSql(spec());
    const lock = `PERFORM pg_catalog.pg_advisory_xact_lock(${MINT_LOCK_KEY});`;
    expect(sql.indexOf('IF (CASE WHEN EXISTS')).toBeLessThan(sql.indexOf(lock));
    expect(sql.split(lock)).toHaveLength(2);
    expect(sql.split(lock)[1]).toMatch(/^ IF \(CASE WHEN EXISTS .* ELSE false END\) THEN RETURN; END IF; /);
    expect(sql).toContain('EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;');
    expect(sql).toContain(`CREATE ROLE "${groupName(spec())}" NOLOGIN INHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;`);
    expect(sql).toContain(`GRANT SELECT ON TABLE "public"."orders" TO "${groupName(spec())}";`);
    expect(sql).toMatch(/USING ERRCODE = 'JIT05'/);
    expect(sql).toMatch(/USING ERRCODE = 'JIT06'/);
    // starts_with, never LIKE: `_` is a LIKE wildcard.
    expect(sql).not.toMatch(/ LIKE /i);
  });

  it.each(HOSTILE)('quotes hostile table, schema, role and member_of names: %s', (name) => {
    const s = spec({
      role: name,
      database: name,
      grants: [
        { privileges: ['SELECT'], tables: [{ schema: name, name }] },
        { privileges: ['SELECT'], schema: name },
        { privileges: ['USAGE'], sequences: [{ schema: name, name }] },
      ],
      memberOf: [name],
    });
    const sql = ensureGroupSql(s);
    const q = `"${name.replace(/"/g, '""')}"`;
    expect(sql).toContain(`ON TABLE ${q}.${q} TO`);
    expect(sql).toContain(`ON ALL TABLES IN SCHEMA ${q} TO`);
    expect(sql).toContain(`ON SEQUENCE ${q}.${q} TO`);
    expect(sql).toContain(`GRANT ${q} TO "${groupName(s).replace(/"/g, '""')}";`);
    // The body is one dollar-quoted block: no name can end it early.
    const tag = sql.slice(3, sql.indexOf('$', 4) + 1);
    expect(sql.split(tag)).toHaveLength(3);
  });

  it('refuses privileges outside the allow-list', () => {
    expect(() => ensureGroupSql(spec({ grants: [{ privileges: ['SELECT; DROP TABLE t'], tables: [{ schema: 'public', name: 't' }] }] }))).toThrow(/cannot be granted/);
  });
});

describe('membership', () => {
  it.each(HOSTILE)('is INHERIT TRUE, SET FALSE on 16+: %s', (name) => {
    const sql = groupMembershipSql('jitgroup_r_0123456789', name);
    const q = `"${name.replace(/"/g, '""')}"`.replace(/'/g, "''").replace(/\\/g, '\\\\');
    expect(sql).toContain(`>= 160000 THEN EXECUTE`);
    expect(sql).toContain(`GRANT "jitgroup_r_0123456789" TO ${q} WITH INHERIT TRUE, SET FALSE'`);
  });
});
