import { escapeLiteral } from './postgres-quote.js';
import { usageError } from '../../core/errors.js';

/** Pieces shared by the SQL builders of postgres-sql.ts and postgres-group.ts. */

/** pg_advisory_xact_lock key serialising grants: concurrent GRANTs on one table fail with XX000 "tuple concurrently updated". */
export const MINT_LOCK_KEY = '7667787793781321332'; // 'jit_mint' as a big-endian int8

export const TABLE_PRIVILEGES = new Set(['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']);
export const SEQUENCE_PRIVILEGES = new Set(['USAGE', 'SELECT', 'UPDATE']);

/** Privileges are keywords (they cannot be quoted), so only allow-listed words get through. */
export function privilegeList(privileges: string[], allowed: Set<string>, what: string): string {
  const words = privileges.map((p) => p.trim().toUpperCase());
  for (const p of words) {
    if (!allowed.has(p)) throw usageError(`privilege ${JSON.stringify(p)} cannot be granted on ${what} by jit`, 'fix the privileges in the policy');
  }
  return [...new Set(words)].join(', ');
}

/**
 * `$tag$body$tag$` with a tag that cannot end the body early: names inside the body are only
 * quoted as identifiers or literals, and neither quoting escapes `$`.
 */
export function dollarQuote(body: string): string {
  let tag = '$jit$';
  for (let i = 1; (body + tag).indexOf(tag) !== body.length; i++) tag = `$jit${i}$`;
  return tag + body + tag;
}

/** NOLOGIN role every minted login is a member of: how jit finds its logins (never by name). */
export const MARKER_ROLE = 'jit';

/**
 * A role jit minted, by what only a mint creates: a `jit_` name, none of the attributes a mint
 * withholds, not the admin running the query, and a plain membership IN the marker (the login is
 * the member, `jit` the granted role). Since PostgreSQL 16 a CREATEROLE admin is itself made a
 * member of every role it creates, the marker included, but WITH ADMIN OPTION, and its name may
 * well start with `jit_`: neither the prefix nor the membership alone says "minted". Not
 * rolcanlogin: a half-revoked login is already NOLOGIN and must still be found.
 */
export const isMinted = (r: string) =>
  `(pg_catalog.starts_with(${r}.rolname, 'jit_') AND NOT (${r}.rolsuper OR ${r}.rolcreaterole OR ${r}.rolreplication OR ${r}.rolbypassrls) ` +
  `AND ${r}.rolname <> current_user AND EXISTS (SELECT 1 FROM pg_catalog.pg_auth_members m JOIN pg_catalog.pg_roles j ON j.oid = m.roleid ` +
  `WHERE m.member = ${r}.oid AND j.rolname = ${escapeLiteral(MARKER_ROLE)} AND NOT m.admin_option))`;
