import { LOGIN_PREFIX } from '../../core/names.js';

/** One row of pg_hba_file_rules (the columns jit reads). */
export interface HbaRule {
  line_number: number;
  type: string;
  database: string[] | null;
  user_name: string[] | null;
  auth_method: string | null;
  error: string | null;
}

/** A pg_hba.conf line through which a minted login could log in without its password. */
export interface HbaWarning {
  line: number;
  method: string;
  text: string;
}

// VALID UNTIL is the password's expiry: only these methods check it. `reject` admits nobody.
const PASSWORD_METHODS = new Set(['scram-sha-256', 'md5', 'password', 'reject']);
const SAMPLE_LOGIN = `${LOGIN_PREFIX}user_0123456789`;

/** Whether a user_name entry could name a minted login (`all`, `jit_…`, `+jit`, a group of the policy, a regex, an @file). */
function userMayMatch(entry: string, groups: Set<string>): boolean {
  if (entry === 'all') return true;
  if (entry.startsWith('@')) return true; // a file of names jit cannot read: assume the worst
  if (entry.startsWith('+')) return groups.has(entry.slice(1));
  if (entry.startsWith('/')) {
    try {
      return new RegExp(entry.slice(1)).test(SAMPLE_LOGIN);
    } catch {
      return true;
    }
  }
  return entry.startsWith(LOGIN_PREFIX);
}

function databaseMayMatch(entry: string, database: string): boolean {
  if (entry === 'replication') return false; // minted logins have no REPLICATION attribute
  if (entry === 'all' || entry === database || entry.startsWith('@') || entry.startsWith('/')) return true;
  return entry === 'samerole' || entry === 'samegroup';
}

/**
 * The lines of pg_hba.conf whose method ignores VALID UNTIL (trust, cert, peer, ident, and any
 * other method that does not check the password) and that could match a minted login
 * connecting to `database`. `groups`: roles every minted login is a member of (the marker `jit`
 * and the policy's member_of roles), which `+group` entries match.
 */
export function hbaWarnings(rules: HbaRule[], database: string, groups: Iterable<string>): HbaWarning[] {
  const g = new Set(groups);
  const out: HbaWarning[] = [];
  for (const r of rules) {
    if (r.error || !r.auth_method || PASSWORD_METHODS.has(r.auth_method)) continue;
    if (!(r.database ?? []).some((d) => databaseMayMatch(d, database))) continue;
    const users = (r.user_name ?? []).filter((u) => userMayMatch(u, g));
    if (users.length === 0) continue;
    out.push({
      line: r.line_number,
      method: r.auth_method,
      text: `line ${r.line_number}: ${r.type} ${(r.database ?? []).join(',')} ${(r.user_name ?? []).join(',')} ${r.auth_method}`,
    });
  }
  return out;
}
