import type { Client } from 'pg';
import type { RevokeResult, ServerTarget } from '../engine.js';
import { JitError, EXIT } from '../../core/errors.js';
import { LOGIN_PREFIX } from '../../core/names.js';
import { errorCode, oneLine } from './postgres-errors.js';
import {
  OWNED_DATABASES_SQL,
  REMAINING_SESSIONS_SQL,
  REVOKE_LOCK_SQL,
  REVOKE_UNLOCK_SQL,
  ROLE_INFO_SQL,
  blockLoginSql,
  dropOwnedSql,
  dropRoleSql,
  grantLoginToAdminSql,
  terminateSql,
} from './postgres-sql.js';

/** What revocation needs from the session: its client, and a way to reach other databases. */
export interface RevokeContext {
  client: Client;
  target: ServerTarget;
  /** A connected admin client on another database of the same server; the caller ends it. */
  connectTo(database: string): Promise<Client>;
}

export interface RoleInfo {
  oid: number;
  marked: boolean;
  adminHasRole: boolean;
  serverVersion: number;
}

/** null when no role has that name. */
export async function roleInfo(client: Client, login: string): Promise<RoleInfo | null> {
  const { rows } = await client.query(ROLE_INFO_SQL, [login]);
  const r = rows[0];
  if (!r) return null;
  return { oid: Number(r.oid), marked: r.marked === true, adminHasRole: r.admin_has_role === true, serverVersion: Number(r.server_version) };
}

/** Revocation and extension must never touch a role jit did not mint. */
export function assertJitLogin(login: string, info: RoleInfo): void {
  if (info.marked && login.startsWith(LOGIN_PREFIX)) return;
  const why = info.marked ? `its name does not start with ${LOGIN_PREFIX}` : 'it is not a plain member of the jit marker role without admin attributes';
  throw new JitError(`refusing to touch role ${login}: ${why}, so jit did not mint it`, {
    hint: "jit only revokes its own logins; see 'jit list --all'",
    exitCode: EXIT.usage,
  });
}

// DROP ROLE fails with 2BP01 when objects appeared after DROP OWNED (a session that was still
// running), 55006 when the role is in use: both clear on a second pass.
const RETRYABLE = new Set(['2BP01', '55006']);
const BACKOFF_MS = [150, 600];

/**
 * DESIGN §4: block login → end sessions (by usesysid) → REASSIGN/DROP OWNED in every database
 * pg_shdepend lists → DROP ROLE IF EXISTS. Keeps going past failed steps and reports them.
 */
export async function revokeLogin(ctx: RevokeContext, login: string): Promise<RevokeResult> {
  await ctx.client.query(REVOKE_LOCK_SQL, [login]);
  try {
    return await revokeLocked(ctx, login);
  } finally {
    await ctx.client.query(REVOKE_UNLOCK_SQL, [login]).catch(() => {});
  }
}

async function revokeLocked(ctx: RevokeContext, login: string): Promise<RevokeResult> {
  let info = await roleInfo(ctx.client, login);
  if (!info) return { login, gone: true, alreadyGone: true, terminated: 0, errors: [] };
  assertJitLogin(login, info);

  let terminated = 0;
  let errors: string[] = [];
  for (let attempt = 0; ; attempt++) {
    errors = [];
    let lastCode: string | undefined;
    const step = async <T>(name: string, fn: () => Promise<T>): Promise<T | undefined> => {
      try {
        return await fn();
      } catch (err) {
        errors.push(`${name}: ${oneLine(err)}${errorCode(err) ? ` (${errorCode(err)})` : ''}`);
        lastCode = errorCode(err);
        return undefined;
      }
    };
    const role = info;
    if (!role.adminHasRole) await step('grant the login to the admin', () => ctx.client.query(grantLoginToAdminSql(login)));
    await step('block login', () => ctx.client.query(blockLoginSql(login)));
    const ended = await step('end sessions', () => ctx.client.query(terminateSql(role.serverVersion), [role.oid]));
    terminated += Number(ended?.rows[0]?.terminated ?? 0);
    // Dropping the role while a session survives would lose its OID, the only way to find that
    // session again (after the drop, usename is NULL): keep the role, report, retry.
    const left = await step('count sessions', () => ctx.client.query(REMAINING_SESSIONS_SQL, [role.oid]));
    const remaining = Number(left?.rows[0]?.remaining ?? (ended ? 0 : 1));
    if (remaining > 0) {
      errors.push(`end sessions: ${remaining} session(s) still running`);
      if (attempt >= BACKOFF_MS.length) break;
      await new Promise((r) => setTimeout(r, BACKOFF_MS[attempt]));
      continue;
    }
    const listed = await step('find databases', () => ctx.client.query(OWNED_DATABASES_SQL, [role.oid]));
    const databases = new Set<string>([ctx.target.database, ...(listed?.rows ?? []).map((r) => String(r.datname))]);
    for (const db of databases) await step(`drop owned in ${db}`, () => dropOwnedIn(ctx, db, login));
    lastCode = undefined;
    const dropped = await step('drop role', () => ctx.client.query(dropRoleSql(login)));
    if (dropped) return { login, gone: true, terminated, errors };

    if (attempt >= BACKOFF_MS.length || !lastCode || !RETRYABLE.has(lastCode)) break;
    await new Promise((r) => setTimeout(r, BACKOFF_MS[attempt]));
    const again = await roleInfo(ctx.client, login).catch(() => info);
    if (!again) return { login, gone: true, terminated, errors: [] };
    info = again;
  }
  const still = await roleInfo(ctx.client, login).catch(() => info);
  if (still && errors.some((e) => /\((2BP01|42501)\)$/.test(e))) errors = [notOursToDrop(login, ctx.target.adminUser, errors)];
  return { login, gone: still === null, terminated, errors };
}

/**
 * A login whose grants or memberships another admin gave (e.g. one minted through a superuser
 * admin's policy) keeps them after this admin's DROP OWNED, so DROP ROLE fails with 2BP01, or
 * 42501 when this admin may not alter it at all. Say so plainly instead of listing steps.
 */
function notOursToDrop(login: string, adminUser: string, errors: string[]): string {
  const blocked = !errors.some((e) => e.startsWith('block login:'));
  const code = errors.some((e) => e.endsWith('(42501)')) ? '42501' : '2BP01';
  return (
    `${login} is ${blocked ? 'blocked (NOLOGIN) but' : 'still able to log in and'} not dropped: ${adminUser} cannot remove ` +
    `what another admin granted it (${code}); revoke it with the policy whose admin minted it, or as a superuser`
  );
}

async function dropOwnedIn(ctx: RevokeContext, database: string, login: string): Promise<void> {
  const sql = dropOwnedSql(login, ctx.target.owner);
  if (database === ctx.target.database) {
    await ctx.client.query(sql);
    return;
  }
  const other = await ctx.connectTo(database);
  try {
    await other.query(sql);
  } finally {
    await other.end().catch(() => {});
  }
}
