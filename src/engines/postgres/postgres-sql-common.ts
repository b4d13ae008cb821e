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
