import type { QualifiedName } from './types.js';

/** Keys under `databases:` and `roles:`: they reach the keychain account and lease files, never SQL. */
export const KEY_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
export const KEY_NAME_RULE = 'letters, digits, ".", "_" and "-", up to 63 characters, starting with a letter or digit';

/**
 * One part of a SQL name (schema, table, sequence, role, database). Engines quote every name anyway;
 * the allow-list is a second wall so a hostile name (`x"; DROP TABLE t; --`) never reaches a builder.
 * The length limit is the engine's (EngineProfile.maxIdentifierLength): Postgres truncates past 63
 * bytes with only a NOTICE; MySQL refuses past 64 characters.
 */
const IDENT_CHARS = /^[A-Za-z_][A-Za-z0-9_$-]*$/;

export function isIdent(name: string, maxLength: number): boolean {
  return name.length <= maxLength && IDENT_CHARS.test(name);
}

export function identRule(maxLength: number): string {
  return `letters, digits, "_", "$" and "-", up to ${maxLength} characters, starting with a letter or "_"`;
}

export type NameResult = { ok: true; name: QualifiedName } | { ok: false; message: string; hint?: string };

/**
 * Parse `schema.table` or `table` (schema = `defaultSchema`). `kind` is "table" or "sequence".
 * Wildcards are refused here, not left to the engine: `*.*` on MySQL is every database on the server.
 */
export function parseQualifiedName(text: string, defaultSchema: string, kind: string, maxLength: number): NameResult {
  const t = text.trim();
  const shown = JSON.stringify(text);
  if (t === '*.*') {
    return {
      ok: false,
      message: `${shown} would grant every ${kind} of every schema, which escalates`,
      hint: `list the ${kind}s the role needs, or use a grant with schema: NAME`,
    };
  }
  if (t.includes('*')) {
    return {
      ok: false,
      message: `${shown}: wildcards are refused`,
      hint: `a grant with schema: NAME covers every table of one schema; otherwise list the ${kind}s`,
    };
  }
  const parts = t.split('.');
  if (parts.length > 2 || !parts.every((p) => isIdent(p, maxLength))) {
    return { ok: false, message: `${shown} is not a ${kind} name`, hint: `write ${kind} or schema.${kind}; each part has ${identRule(maxLength)}` };
  }
  const name = parts.length === 2 ? { schema: parts[0], name: parts[1] } : { schema: defaultSchema, name: parts[0] };
  return { ok: true, name };
}

export function formatQualified(q: QualifiedName): string {
  return `${q.schema}.${q.name}`;
}

export function sameQualified(a: QualifiedName, b: QualifiedName): boolean {
  return a.schema === b.schema && a.name === b.name;
}

export type SchemaResult = { ok: true; schema: string } | { ok: false; message: string; hint?: string };

/** The value of a grant's `schema:` — one schema, never a pattern. */
export function parseSchemaName(text: string, maxLength: number): SchemaResult {
  const t = text.trim();
  if (t.includes('*')) {
    return {
      ok: false,
      message: `${JSON.stringify(text)} would grant every schema, which escalates`,
      hint: 'name one schema per grant; schema: NAME already covers every table in it',
    };
  }
  if (!isIdent(t, maxLength)) return { ok: false, message: `${JSON.stringify(text)} is not a schema name`, hint: `a schema name has ${identRule(maxLength)}` };
  return { ok: true, schema: t };
}
