import type { EngineName } from './types.js';
import { IDENT, IDENT_RULE } from './names.js';

/** What a grant targets; the allow-list differs between tables/schemas and sequences. */
export type GrantKind = 'tables' | 'schema' | 'sequences';

/** In this order everywhere, so merged grants and SQL are deterministic. */
export const TABLE_PRIVILEGES = ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER'] as const;
export const SEQUENCE_PRIVILEGES = ['USAGE', 'SELECT', 'UPDATE'] as const;

// Named so the message can say "escalates" instead of the vaguer "not allowed": these hand out
// server-wide power (role attributes, file access, DDL, code execution) rather than data access.
const ESCALATING = new Set([
  'ALL', 'ALL PRIVILEGES', 'SUPERUSER', 'CREATEROLE', 'CREATEDB', 'BYPASSRLS', 'REPLICATION', 'LOGIN',
  'CREATE', 'TEMPORARY', 'TEMP', 'EXECUTE', 'FILE', 'SUPER', 'PROCESS', 'SHUTDOWN', 'CREATE USER',
  'RELOAD', 'SYSTEM_USER', 'SET_USER_ID', 'ROLE_ADMIN', 'CONNECTION_ADMIN', 'ALTER ROUTINE', 'CREATE ROUTINE',
]);

// Superuser-equivalents of Postgres, MySQL and the managed services; membership is escalation.
const SUPER_ROLES = new Set(['postgres', 'root', 'rds_superuser', 'rdsadmin', 'cloudsqlsuperuser', 'azure_pg_admin', 'azuresu']);

export type Checked = { ok: true; value: string } | { ok: false; message: string; hint?: string };

function allowed(kind: GrantKind, engine: EngineName): readonly string[] {
  if (kind === 'sequences') return SEQUENCE_PRIVILEGES;
  // MySQL has no TRUNCATE privilege: TRUNCATE TABLE needs DROP, which jit never grants.
  return engine === 'mysql' ? TABLE_PRIVILEGES.filter((p) => p !== 'TRUNCATE') : TABLE_PRIVILEGES;
}

/** Normalise one privilege (case, spacing) and check it against the allow-list for `kind`. */
export function checkPrivilege(raw: string, kind: GrantKind, engine: EngineName): Checked {
  const p = raw.trim().replace(/\s+/g, ' ').toUpperCase();
  const shown = JSON.stringify(raw.trim());
  const list = allowed(kind, engine);
  const hint = `allowed on ${kind === 'sequences' ? 'sequences' : 'tables'}: ${list.join(', ')}`;
  if (p.includes('GRANT')) {
    return { ok: false, message: `${shown} escalates: a grant option lets the login hand its privileges on to others`, hint };
  }
  if (p === 'CONNECT') return { ok: false, message: 'CONNECT is granted automatically', hint: 'remove it from privileges' };
  if (p.startsWith('PG_')) {
    return { ok: false, message: `${shown} is a predefined pg_* role, which escalates`, hint };
  }
  if (ESCALATING.has(p)) return { ok: false, message: `${shown} escalates and is refused`, hint };
  if (p === 'TRUNCATE' && engine === 'mysql') {
    return { ok: false, message: 'MySQL has no TRUNCATE privilege (TRUNCATE TABLE needs DROP, which jit never grants)', hint };
  }
  if (!list.includes(p)) {
    return { ok: false, message: `${shown} is not a privilege jit grants on ${kind === 'sequences' ? 'sequences' : 'tables'}`, hint };
  }
  return { ok: true, value: p };
}

/**
 * A `member_of` entry: an existing group role. Refused: anything that is or could be a superuser,
 * predefined `pg_*` roles (pg_execute_server_program and friends), jit's own `jit` marker and
 * `jit_*` logins, and the admin login itself (membership would pass on its privileges).
 */
export function checkMemberOf(name: string, adminUser: string): Checked {
  const shown = JSON.stringify(name);
  if (!IDENT.test(name)) return { ok: false, message: `${shown} is not a role name`, hint: `a role name has ${IDENT_RULE}` };
  const lower = name.toLowerCase();
  if (lower.startsWith('pg_')) return { ok: false, message: `${shown} is a predefined pg_* role; membership escalates` };
  if (SUPER_ROLES.has(lower)) return { ok: false, message: `${shown} is a superuser role; membership escalates` };
  if (lower.startsWith('jit')) return { ok: false, message: `${shown} is reserved for jit's own roles` };
  if (lower === adminUser.toLowerCase()) return { ok: false, message: `${shown} is the admin login; membership escalates` };
  return { ok: true, value: name };
}
