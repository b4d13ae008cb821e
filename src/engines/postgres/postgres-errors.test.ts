import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { registerSecret } from '../../core/redact.js';
import { translatePgError, type PgErrorContext } from './postgres-errors.js';
import { parseMarker, privilegeProblems, privilegeWarnings } from './postgres-session.js';

const ctx: PgErrorContext = { host: 'db.internal', port: 5432, user: 'jitadm', database: 'app', phase: 'connect' };
const pgError = (code: string, message: string) => Object.assign(new Error(message), { code, severity: 'ERROR' });

describe('translatePgError', () => {
  it('28P01: names server and user, and the command that fixes the credential', () => {
    const e = translatePgError(pgError('28P01', 'password authentication failed for user "jitadm"'), ctx);
    expect(e.message).toBe('admin login to db.internal:5432 as jitadm failed: password authentication failed');
    expect(e.hint).toBe("check the credential with 'jit admin test DB' or store it with 'jit admin set DB'");
    expect(e.exitCode).toBe(1);
  });

  it('28000 for a missing client certificate names the policy keys that fix it', () => {
    const e = translatePgError(pgError('28000', 'connection requires a valid client certificate'), ctx);
    expect(e.message).toBe('admin login to db.internal:5432 as jitadm was refused: connection requires a valid client certificate');
    expect(e.hint).toBe('the server asks for a client certificate: give the database tls_cert and tls_key in the policy');
    expect(translatePgError(pgError('28000', 'no pg_hba.conf entry for host "10.0.0.9"'), ctx).hint).toBe("check admin.user in the policy and the server's pg_hba.conf");
  });

  it('ECONNREFUSED, also wrapped in an AggregateError', () => {
    const agg = Object.assign(new AggregateError([Object.assign(new Error('connect ECONNREFUSED ::1:5432'), { code: 'ECONNREFUSED' })], ''), {});
    for (const err of [Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), agg]) {
      const e = translatePgError(err, ctx);
      expect(e.message).toBe('cannot reach PostgreSQL at db.internal:5432 (ECONNREFUSED)');
      expect(e.hint).toMatch(/host and port/);
    }
  });

  it('42501 says what is missing', () => {
    const e = translatePgError(pgError('42501', 'permission denied to create role'), { ...ctx, phase: 'mint' });
    expect(e.message).toBe('the admin role jitadm lacks a privilege on db.internal:5432: permission denied to create role');
    expect(e.hint).toMatch(/jit doctor/);
  });

  it('42P01 / 3F000 in a GRANT: the policy names a table or schema that does not exist (exit 2)', () => {
    const t = translatePgError(pgError('42P01', 'relation "public.nope" does not exist'), { ...ctx, phase: 'mint' });
    expect(t.message).toBe('the policy names a table that does not exist in app: relation "public.nope" does not exist');
    expect(t.exitCode).toBe(2);
    const s = translatePgError(pgError('3F000', 'schema "nope" does not exist'), { ...ctx, phase: 'mint' });
    expect(s.message).toMatch(/names a schema that does not exist in app: schema "nope"/);
  });

  it('connection timeouts and lost connections read as such', () => {
    expect(translatePgError(new Error('Connection terminated due to connection timeout'), ctx).message).toBe(
      'timed out connecting to PostgreSQL at db.internal:5432',
    );
    expect(translatePgError(new Error('Connection terminated unexpectedly'), { ...ctx, phase: 'query' }).message).toMatch(/^lost the connection/);
  });

  it('brackets IPv6 hosts and keeps to one line', () => {
    const e = translatePgError(pgError('XX999', 'line one\n  line two'), { ...ctx, host: '::1', phase: 'query' });
    expect(e.message).toBe('PostgreSQL at [::1]:5432 refused the request: line one line two (SQLSTATE XX999)');
  });

  it('passes everything through redact()', () => {
    registerSecret('s3cret-admin-pw');
    const e = translatePgError(
      pgError('42601', 'syntax error at or near "SCRAM-SHA-256$4096:abc$def:ghi" with s3cret-admin-pw'),
      { ...ctx, phase: 'mint' },
    );
    expect(e.message).not.toContain('s3cret-admin-pw');
    expect(e.message).not.toContain('abc$def');
  });
});

describe('parseMarker', () => {
  it('returns the lease marker, or null for comments jit did not write', () => {
    expect(parseMarker('{"id":"l1","role":"r"}')).toEqual({ id: 'l1', role: 'r' });
    expect(parseMarker('hand-made role')).toBeNull();
    expect(parseMarker('{"no":"id"}')).toBeNull();
    expect(parseMarker(null)).toBeNull();
  });
});

describe('privilegeProblems', () => {
  it('is empty for a superuser on PG 15', () => {
    expect(privilegeProblems('a', { superuser: true, server_version: 150004 })).toEqual([]);
  });

  it('names each missing capability for a plain role, with the statement that fixes it', () => {
    const p = privilegeProblems('a', { superuser: false, createrole: false, marker_can_login: true, marker_memberships: 1, server_version: 130000, admin_ident: 'a' });
    expect(p).toHaveLength(3); // memberships of the marker: MARKER_HOLDINGS_SQL, tested on real servers
    expect(p[0]).toMatch(/nor CREATEROLE, so it cannot create logins; fix: ALTER ROLE a CREATEROLE$/);
    expect(p.join('\n')).not.toMatch(/pg_signal_backend/);
  });

  it('asks ADMIN OPTION on a marker someone else created only from PostgreSQL 16, and INHERIT only before', () => {
    const r = { superuser: false, createrole: true, inherit: false, marker_exists: true, marker_admin: false, connect_grantable: true, admin_ident: '"A"' };
    expect(privilegeProblems('A', { ...r, server_version: 150004 })).toEqual(['A is NOINHERIT, so its membership in a login does not let it end the login\'s sessions or drop what it owns; fix: ALTER ROLE "A" INHERIT']);
    expect(privilegeProblems('A', { ...r, server_version: 180001 })).toEqual([
      'role jit was created by another role and A has no ADMIN OPTION on it, so it cannot make a login its member (PostgreSQL 16+); fix, as a superuser: GRANT jit TO "A" WITH ADMIN OPTION, INHERIT FALSE, SET FALSE',
    ]);
    expect(privilegeProblems('A', { ...r, superuser: true, server_version: 180001 })).toEqual([]);
  });

  it('warns that a CREATEROLE admin is near-superuser up to PostgreSQL 15 only', () => {
    expect(privilegeWarnings('A', { superuser: false, createrole: true, server_version: 150004 })).toEqual([expect.stringMatching(/^on PostgreSQL 15 CREATEROLE lets A grant itself .*pg_execute_server_program/)]);
    expect(privilegeWarnings('A', { superuser: false, createrole: true, server_version: 160000 })).toEqual([]);
    expect(privilegeWarnings('A', { superuser: true, createrole: true, server_version: 150004 })).toEqual([expect.stringMatching(/^A is a superuser: jit needs only CREATEROLE/)]);
    const open = privilegeWarnings('A', { superuser: false, createrole: true, server_version: 180000, public_connect: ['"hr db"', 'billing'] });
    expect(open).toEqual(['PUBLIC may connect to "hr db", billing on this server, so a minted login can too and read there what PUBLIC may; fix, as their owner or a superuser: REVOKE CONNECT ON DATABASE "hr db" FROM PUBLIC; REVOKE CONNECT ON DATABASE billing FROM PUBLIC']);
  });
});

describe('driver loading', () => {
  it('no engine module imports pg at load time (jit uri startup is benchmarked)', () => {
    const dir = dirname(fileURLToPath(import.meta.url));
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.ts') && !n.endsWith('.test.ts'))) {
      const src = readFileSync(join(dir, f), 'utf8');
      for (const line of src.split('\n').filter((l) => /from 'pg'/.test(l))) expect(line, f).toMatch(/^import type /);
    }
  });
});
