import { usageError } from '../../core/errors.js';

/**
 * Local copies of `pg`'s escapeIdentifier/escapeLiteral, character for character (a unit test
 * compares them with the driver's). They live here so that building SQL never loads the driver:
 * `jit uri` startup time is benchmarked against a bare node+pg script.
 */
export function escapeIdentifier(str: string): string {
  return '"' + str.replace(/"/g, '""') + '"';
}

export function escapeLiteral(str: string): string {
  let hasBackslash = false;
  let escaped = "'";
  for (const c of str) {
    if (c === "'") escaped += c + c;
    else if (c === '\\') {
      escaped += c + c;
      hasBackslash = true;
    } else escaped += c;
  }
  escaped += "'";
  // E'' so a doubled backslash means one backslash whatever standard_conforming_strings says.
  return hasBackslash ? ' E' + escaped : escaped;
}

/** PostgreSQL keeps 63 bytes of a name (NAMEDATALEN - 1). */
export const MAX_IDENTIFIER_BYTES = 63;

/**
 * A quoted identifier, refusing names the server would silently change: over 63 bytes it
 * truncates with only a NOTICE (42622), so a GRANT could land on a different table or role.
 */
export function ident(name: string): string {
  if (name.length === 0) throw usageError('an empty name cannot be used as a PostgreSQL identifier');
  if (name.includes('\u0000')) throw usageError('a name containing a NUL byte cannot be used as a PostgreSQL identifier');
  if (Buffer.byteLength(name, 'utf8') > MAX_IDENTIFIER_BYTES) {
    throw usageError(
      `the name ${JSON.stringify(name)} is longer than PostgreSQL's ${MAX_IDENTIFIER_BYTES} bytes and would be truncated`,
      'shorten the name in the policy',
    );
  }
  return escapeIdentifier(name);
}

/** `schema.name`, both parts quoted. */
export function qualified(schema: string, name: string): string {
  return `${ident(schema)}.${ident(name)}`;
}

/** A timestamptz literal with an explicit UTC offset: without one the session time zone applies. */
export function timestampLiteral(d: Date): string {
  if (Number.isNaN(d.getTime())) throw new Error('invalid date for a PostgreSQL timestamp');
  return escapeLiteral(d.toISOString().replace('Z', '+00'));
}
