import type { Client } from 'pg';
import type { RevokeRequest, RevokeResult, ServerTarget } from '../engine.js';
import { JitError, EXIT } from '../../core/errors.js';
import { LOGIN_PREFIX } from '../../core/names.js';
import { errorCode, oneLine } from './postgres-errors.js';
import { ownerPrivilegeProblem, ownerProblem as ownerRoleProblem } from './postgres-owner.js';
import {
  OWNED_DATABASES_SQL,
  OWNER_CHECK_SQL,
  REMAINING_SESSIONS_SQL,
  REVOKE_LOCK_SQL,
  REVOKE_UNLOCK_SQL,
  ROLE_INFO_SQL,
  blockLoginSql,
  dropOwnedSql,
  dropRoleSql,
  grantLoginToAdminSql,
  terminateSql,
  OWNED_DATABASES_MANY_SQL,
  REVOKE_LOCK_MANY_SQL,
  REVOKE_UNLOCK_MANY_SQL,
  ROLES_INFO_SQL,
  SESSIONS_LEFT_SQL,
  TERMINATE_MANY_SQL,
  blockLoginsSql,
  dropOwnedManySql,
  dropRolesSql,
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
    const unsafe = await ownerTurnedUnsafe(ctx);
    if (unsafe) return { login, gone: false, terminated, errors: [`${login} is blocked (NOLOGIN) but not dropped: ${unsafe}`] };
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
  const ownerProblem = still ? await reassignProblem(ctx, errors) : undefined;
  if (ownerProblem) errors = [`${login} is blocked (NOLOGIN) but not dropped: ${ownerProblem}`];
  else if (still && errors.some((e) => /\((2BP01|42501)\)$/.test(e))) errors = [notOursToDrop(login, ctx.target.adminUser, errors)];
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

/**
 * The owner was checked at mint; a DBA may have changed it since (made it a superuser, granted
 * it pg_write_server_files…). REASSIGN OWNED to it now would hand a login's SECURITY DEFINER
 * function those rights: say why and keep the login blocked instead. A missing owner is left to
 * REASSIGN's own error.
 */
async function ownerTurnedUnsafe(ctx: RevokeContext): Promise<string | undefined> {
  if (!ctx.target.owner) return undefined;
  const { rows } = await ctx.client.query(OWNER_CHECK_SQL, [ctx.target.owner]);
  const why = rows[0] ? ownerRoleProblem(rows[0]) : undefined;
  if (!why) return undefined;
  return `owner role ${ctx.target.owner} ${why} now, and what the login created would run with its rights once handed over; make it an ordinary NOLOGIN role again (or change owner in the policy), then jit reap`;
}

/** When REASSIGN OWNED failed for want of the owner's privileges, the sentence naming the GRANT. */
async function reassignProblem(ctx: RevokeContext, errors: string[]): Promise<string | undefined> {
  if (!ctx.target.owner || !errors.some((e) => e.startsWith('drop owned in ') && e.endsWith('(42501)'))) return undefined;
  const { rows } = await ctx.client.query(OWNER_CHECK_SQL, [ctx.target.owner]).catch(() => ({ rows: [] as Record<string, unknown>[] }));
  return rows[0] ? ownerPrivilegeProblem(rows[0]) : undefined;
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

/** How long revokeMany waits, once for the whole batch, for signalled sessions to end. */
const SESSION_WAIT_MS = 5_000;
const SESSION_POLL_MS = 25;
/** Roles per DROP ROLE / DROP OWNED statement. */
const DROP_BATCH = 100;

const messageOf = (err: unknown) => `${oneLine(err)}${errorCode(err) ? ` (${errorCode(err)})` : ''}`;

/**
 * Many logins of one server together (`revoke --all`, the reaper's due batch): block every
 * login in one transaction, signal every session in one query, wait once, DROP OWNED per
 * database and DROP ROLE in batches. A role whose session survives stays NOLOGIN and is
 * reported, never dropped. A batch step that fails falls back to revokeLogin's steps for the
 * logins of that batch, so each failure is reported against its own login.
 */
export async function revokeLogins(ctx: RevokeContext, requests: RevokeRequest[]): Promise<RevokeResult[]> {
  const logins = [...new Set(requests.map((r) => r.login))].sort();
  if (logins.length === 0) return [];
  await ctx.client.query(REVOKE_LOCK_MANY_SQL, [logins]);
  try {
    const results = await revokeManyLocked(ctx, logins);
    return requests.map((r) => results.get(r.login)!);
  } finally {
    await ctx.client.query(REVOKE_UNLOCK_MANY_SQL, [logins]).catch(() => {});
  }
}

async function revokeManyLocked(ctx: RevokeContext, logins: string[]): Promise<Map<string, RevokeResult>> {
  const results = new Map<string, RevokeResult>();
  const { rows } = await ctx.client.query(ROLES_INFO_SQL, [logins]);
  const infos = new Map<string, RoleInfo>();
  for (const r of rows) {
    infos.set(String(r.login), { oid: Number(r.oid), marked: r.marked === true, adminHasRole: r.admin_has_role === true, serverVersion: Number(r.server_version) });
  }
  const ours: string[] = [];
  for (const login of logins) {
    const info = infos.get(login);
    if (!info) {
      results.set(login, { login, gone: true, alreadyGone: true, terminated: 0, errors: [] });
      continue;
    }
    try {
      assertJitLogin(login, info);
      ours.push(login);
    } catch (err) {
      results.set(login, { login, gone: false, terminated: 0, errors: [messageOf(err)] });
    }
  }
  // Anything a batch step cannot do for all goes through the single-login steps.
  const oneByOne = async (batch: string[]) => {
    for (const login of batch) {
      const before = results.get(login)?.terminated ?? 0;
      try {
        const res = await revokeLocked(ctx, login);
        results.set(login, { ...res, terminated: res.terminated + before });
      } catch (err) {
        results.set(login, { login, gone: false, terminated: before, errors: [messageOf(err)] });
      }
    }
  };
  if (ours.length === 0) return results;

  // 1. Block every login at once: none can log in again once this commits.
  try {
    await ctx.client.query(blockLoginsSql(ours, ours.filter((l) => !infos.get(l)!.adminHasRole)));
  } catch {
    await ctx.client.query('ROLLBACK').catch(() => {});
    await oneByOne(ours);
    return results;
  }
  const oidOf = (l: string) => infos.get(l)!.oid;
  const byOid = new Map(ours.map((l) => [oidOf(l), l]));
  const oids = ours.map(oidOf);

  // 2. Signal every session at once, 3. wait once for all of them.
  const terminated = new Map<string, number>();
  try {
    const ended = await ctx.client.query(TERMINATE_MANY_SQL, [oids]);
    for (const r of ended.rows) terminated.set(byOid.get(Number(r.oid))!, Number(r.terminated));
  } catch {
    // e.g. 42501 for one backend the admin may not signal: the single-login steps say which.
    await oneByOne(ours);
    return results;
  }
  const left = new Map<string, number>();
  const deadline = Date.now() + SESSION_WAIT_MS;
  for (;;) {
    const { rows: still } = await ctx.client.query(SESSIONS_LEFT_SQL, [oids]);
    left.clear();
    for (const r of still) left.set(byOid.get(Number(r.oid))!, Number(r.remaining));
    if (left.size === 0 || Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, SESSION_POLL_MS));
  }
  const droppable: string[] = [];
  for (const login of ours) {
    const n = terminated.get(login) ?? 0;
    const remaining = left.get(login) ?? 0;
    // Dropping the role while a session survives would lose its OID, the only way to find that
    // session again: keep it (NOLOGIN), report it.
    if (remaining > 0) results.set(login, { login, gone: false, terminated: n, errors: [`end sessions: ${remaining} session(s) still running`] });
    else {
      results.set(login, { login, gone: false, terminated: n, errors: [] });
      droppable.push(login);
    }
  }
  if (droppable.length === 0) return results;

  const unsafe = await ownerTurnedUnsafe(ctx);
  if (unsafe) {
    for (const login of droppable) {
      results.set(login, { ...results.get(login)!, gone: false, errors: [`${login} is blocked (NOLOGIN) but not dropped: ${unsafe}`] });
    }
    return results;
  }

  // 4. What they own or were granted, per database, then the roles themselves, in batches.
  const dropOids = droppable.map(oidOf);
  let perDb: Array<{ db: string; logins: string[] }>;
  try {
    const listed = await ctx.client.query(OWNED_DATABASES_MANY_SQL, [dropOids]);
    perDb = listed.rows.map((r) => ({ db: String(r.datname), logins: (r.oids as unknown[]).map((o) => byOid.get(Number(o))!).filter(Boolean) }));
  } catch {
    await oneByOne(droppable);
    return results;
  }
  if (!perDb.some((d) => d.db === ctx.target.database)) perDb.unshift({ db: ctx.target.database, logins: droppable });
  else perDb = perDb.map((d) => (d.db === ctx.target.database ? { db: d.db, logins: droppable } : d));
  const failed = new Set<string>();
  for (const { db, logins: inDb } of perDb) {
    for (const batch of chunks(inDb.filter((l) => !failed.has(l)), DROP_BATCH)) {
      try {
        await runIn(ctx, db, dropOwnedManySql(batch, ctx.target.owner));
      } catch {
        batch.forEach((l) => failed.add(l));
      }
    }
  }
  for (const batch of chunks(droppable.filter((l) => !failed.has(l)), DROP_BATCH)) {
    try {
      await ctx.client.query(dropRolesSql(batch));
      for (const l of batch) results.set(l, { ...results.get(l)!, gone: true });
    } catch {
      batch.forEach((l) => failed.add(l));
    }
  }
  await oneByOne(droppable.filter((l) => failed.has(l)));
  return results;
}

function chunks<T>(list: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

async function runIn(ctx: RevokeContext, database: string, sql: string): Promise<void> {
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
