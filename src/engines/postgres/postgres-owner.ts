import type { Client } from 'pg';
import { usageError } from '../../core/errors.js';
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
