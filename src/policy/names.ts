import type { QualifiedName } from './types.js';

/** Keys under `databases:` and `roles:`: they reach the keychain account and lease files, never SQL. */
export const KEY_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
export const KEY_NAME_RULE = 'letters, digits, ".", "_" and "-", up to 63 characters, starting with a letter or digit';

/**
 * One part of a SQL name (schema, table, sequence, role, database). Engines quote every name anyway;
 * the allow-list is a second wall so a hostile name (`x"; DROP TABLE t; --`) never reaches a builder.
 * 63 is Postgres' limit: longer names are truncated with only a NOTICE.
 */
export const IDENT = /^[A-Za-z_][A-Za-z0-9_$-]{0,62}$/;
export const IDENT_RULE = 'letters, digits, "_", "$" and "-", up to 63 characters, starting with a letter or "_"';

export type NameResult = { ok: true; name: QualifiedName } | { ok: false; message: string; hint?: string };

/**
 * Parse `schema.table` or `table` (schema = `defaultSchema`). `kind` is "table" or "sequence".
 * Wildcards are refused here, not left to the engine: `*.*` on MySQL is every database on the server.
 */
export function parseQualifiedName(text: string, defaultSchema: string, kind: string): NameResult {
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
  if (parts.length > 2 || !parts.every((p) => IDENT.test(p))) {
    return { ok: false, message: `${shown} is not a ${kind} name`, hint: `write ${kind} or schema.${kind}; each part ${IDENT_RULE}` };
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
export function parseSchemaName(text: string): SchemaResult {
  const t = text.trim();
  if (t.includes('*')) {
    return {
      ok: false,
      message: `${JSON.stringify(text)} would grant every schema, which escalates`,
      hint: 'name one schema per grant; schema: NAME already covers every table in it',
    };
  }
  if (!IDENT.test(t)) return { ok: false, message: `${JSON.stringify(text)} is not a schema name`, hint: `a schema name has ${IDENT_RULE}` };
  return { ok: true, schema: t };
}

/**
 * Schemas of the server itself. A grant there reads or writes the catalog: `pg_catalog.pg_authid`
 * holds every password verifier. Postgres reserves every `pg_` schema name (pg_toast, pg_temp_N,
 * pg_toast_temp_N); MySQL's are databases.
 */
export function systemSchema(schema: string, engine: 'postgres' | 'mysql'): boolean {
  const s = schema.toLowerCase();
  if (s === 'information_schema') return true;
  if (engine === 'postgres') return s.startsWith('pg_');
  return s === 'mysql' || s === 'performance_schema' || s === 'sys';
}
