import type { EngineProfile } from '../engines/profile.js';
import { identRule, isIdent } from './names.js';

/** What a grant targets; the allow-list differs between tables/schemas and sequences. */
export type GrantKind = 'tables' | 'schema' | 'sequences';

// Named so the message can say "escalates" instead of the vaguer "not allowed": these hand out
// server-wide power (role attributes, file access, DDL, code execution) rather than data access.
const ESCALATING = new Set([
  'ALL', 'ALL PRIVILEGES', 'SUPERUSER', 'CREATEROLE', 'CREATEDB', 'BYPASSRLS', 'REPLICATION', 'LOGIN',
  'CREATE', 'TEMPORARY', 'TEMP', 'EXECUTE', 'FILE', 'SUPER', 'PROCESS', 'SHUTDOWN', 'CREATE USER',
  'RELOAD', 'SYSTEM_USER', 'SET_USER_ID', 'ROLE_ADMIN', 'CONNECTION_ADMIN', 'ALTER ROUTINE', 'CREATE ROUTINE',
]);

export type Checked = { ok: true; value: string } | { ok: false; message: string; hint?: string };

/** The engine's allow-list for `kind`, in its canonical order (merged grants and SQL are deterministic). */
function allowed(kind: GrantKind, profile: EngineProfile): readonly string[] {
  return kind === 'sequences' ? (profile.sequencePrivileges ?? []) : profile.tablePrivileges;
}

/** Normalise one privilege (case, spacing) and check it against the engine's allow-list for `kind`. */
export function checkPrivilege(raw: string, kind: GrantKind, profile: EngineProfile): Checked {
  const p = raw.trim().replace(/\s+/g, ' ').toUpperCase();
  const shown = JSON.stringify(raw.trim());
  const list = allowed(kind, profile);
  const hint = `allowed on ${kind === 'sequences' ? 'sequences' : 'tables'}: ${list.join(', ')}`;
  if (p.includes('GRANT')) {
    return { ok: false, message: `${shown} escalates: a grant option lets the login hand its privileges on to others`, hint };
  }
  if (p === 'CONNECT') return { ok: false, message: 'CONNECT is granted automatically', hint: 'remove it from privileges' };
  if (p.startsWith('PG_')) {
    return { ok: false, message: `${shown} is a predefined pg_* role, which escalates`, hint };
  }
  if (ESCALATING.has(p)) return { ok: false, message: `${shown} escalates and is refused`, hint };
  const refused = Object.hasOwn(profile.refusedPrivileges, p) ? profile.refusedPrivileges[p] : undefined;
  if (refused) return { ok: false, message: refused, hint };
  if (!list.includes(p)) {
    return { ok: false, message: `${shown} is not a privilege jit grants on ${kind === 'sequences' ? 'sequences' : 'tables'}`, hint };
  }
  return { ok: true, value: p };
}

/**
 * A role the policy hands something to (`member_of`, `owner`): an existing group role. Refused:
 * anything that is or could be a superuser, the server's own roles (Postgres' predefined `pg_*`:
 * pg_execute_server_program and friends; MySQL's `mysql.*` system accounts), jit's own `jit`
 * marker and `jit_*` logins, and the admin login itself (membership would pass on its privileges).
 */
export function checkRoleName(name: string, adminUser: string, profile: EngineProfile, what = 'membership'): Checked {
  const shown = JSON.stringify(name);
  const rule = identRule(profile.maxIdentifierLength);
  if (!isIdent(name, profile.maxIdentifierLength)) return { ok: false, message: `${shown} is not a role name`, hint: `a role name has ${rule}` };
  const lower = name.toLowerCase();
  const prefix = profile.reservedRolePrefixes.find((p) => lower.startsWith(p));
  if (prefix) return { ok: false, message: `${shown} is a predefined ${prefix}* role; ${what} escalates` };
  if (profile.superuserRoles.includes(lower)) return { ok: false, message: `${shown} is a superuser role; ${what} escalates` };
  if (lower.startsWith('jit')) return { ok: false, message: `${shown} is reserved for jit's own roles` };
  if (lower === adminUser.toLowerCase()) return { ok: false, message: `${shown} is the admin login; ${what} escalates` };
  return { ok: true, value: name };
}
