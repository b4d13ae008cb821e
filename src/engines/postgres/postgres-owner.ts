import type { Client } from 'pg';
import { runtimeError, usageError } from '../../core/errors.js';
import { OWNER_CHECK_SQL } from './postgres-sql.js';

const HINT = 'name an ordinary NOLOGIN role as owner in the policy, e.g. CREATE ROLE app_owner NOLOGIN';

/**
 * Refuse the policy's `owner` before anything is created: REASSIGN OWNED hands a login's objects
 * to it at revoke, and a login's SECURITY DEFINER function then runs with the owner's rights (with
 * `owner: postgres`, as superuser). The validator can refuse only obvious names; this asks the server.
 */
export async function checkOwner(client: Client, owner: string): Promise<void> {
  const { rows } = await client.query(OWNER_CHECK_SQL, [owner]);
  const r = rows[0];
  if (!r) throw usageError(`owner role ${owner} does not exist on the server`, `create it first (CREATE ROLE ${owner} NOLOGIN) or remove owner from the policy`);
  const what = ownerProblem(r);
  if (what) throw usageError(`owner role ${owner} ${what}; what logins leave behind would run with its rights`, HINT);
  // Refused before the login exists: its revoke would fail at REASSIGN OWNED and leave it behind.
  const missing = ownerPrivilegeProblem(r);
  if (missing) throw runtimeError(missing, `run as a superuser: GRANT ${String(r.owner_ident)} TO ${String(r.admin_ident)}`);
}

/** The admin must hold the owner's privileges to hand it objects (REASSIGN OWNED, 42501 otherwise). */
export function ownerPrivilegeProblem(r: Record<string, unknown>): string | undefined {
  if (r.admin_has_privileges === true) return undefined;
  return (
    `${String(r.admin_ident)} does not have the privileges of owner role ${String(r.owner_ident)}, so revocation could not hand it ` +
    `what a login created (REASSIGN OWNED); fix: GRANT ${String(r.owner_ident)} TO ${String(r.admin_ident)}`
  );
}

/** Why a role cannot be the owner, or undefined when it can. */
export function ownerProblem(r: Record<string, unknown>): string | undefined {
  if (r.is_admin === true) return 'is the admin login itself';
  if (r.superuser === true) return 'is a superuser';
  if (r.createrole === true) return 'has CREATEROLE';
  if (r.bypassrls === true) return 'has BYPASSRLS';
  if (r.replication === true) return 'has REPLICATION';
  if (r.jit_login === true) return 'is a jit login';
  const powerful = Array.isArray(r.powerful) ? r.powerful : [];
  if (powerful.length > 0) return `is a member of ${powerful.join(', ')}`;
  return undefined;
}
