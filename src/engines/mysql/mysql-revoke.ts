import type { RevokeRequest, RevokeResult } from '../engine.js';
import { EXIT, JitError } from '../../core/errors.js';
import { LOGIN_PREFIX } from '../../core/names.js';
import type { Db, Row } from './mysql-db.js';
import { ER, errorNumber, stepMessage } from './mysql-errors.js';
import { mysqlProfile } from './mysql-profile.js';
import {
  ACCOUNT_HOSTS_MANY_SQL,
  ACCOUNT_HOSTS_SQL,
  GET_LOCK_SQL,
  JIT_LOGIN_PATTERN,
  LEDGER_DELETE_SQL,
  LEDGER_ROW_SQL,
  RELEASE_LOCK_SQL,
  THREADS_MANY_SQL,
  THREADS_SQL,
  dropAccountsSql,
  dropEventSql,
  dropUsersSql,
  killSql,
  lockAccountsSql,
  lockManySql,
  lockName,
} from './mysql-sql.js';

/** How long a revoke waits for a concurrent revoke of the same login (GET_LOCK, seconds). */
const LOCK_WAIT_S = 30;
/** How long killed threads get to end before they are reported as surviving. */
const THREAD_WAIT_MS = 3_000;
const THREAD_POLL_MS = 25;
/** Accounts per DROP USER statement. */
const DROP_BATCH = 100;

/** The ledger table or its schema is missing: nothing was ever minted here. */
export function ledgerMissing(err: unknown): boolean {
  const n = errorNumber(err);
  return n === ER.NO_SUCH_TABLE || n === ER.BAD_DB;
}

/** Whether the ledger has a row for the login (false when there is no ledger at all). */
export async function hasLedgerRow(db: Db, login: string): Promise<boolean> {
  try {
    return (await db.rows(LEDGER_ROW_SQL, [login])).length > 0;
  } catch (err) {
    if (ledgerMissing(err)) return false;
    throw err;
  }
}

export async function accountHosts(db: Db, login: string): Promise<string[]> {
  return (await db.rows(ACCOUNT_HOSTS_SQL, [login])).map((r) => String(r.host));
}

/**
 * The shape makeLoginName gives a MySQL login: `jit_<requester>_<random>` in lower-case letters
 * and digits, at most 32 characters. A ledger row is only a claim (anyone with INSERT on
 * jit.leases can write one), and the server compares names with PAD SPACE collations, so a row
 * for 'jit_x ' (trailing space) reaches the account 'jit_x': only this exact shape is acted on.
 */
const JIT_LOGIN_NAME = new RegExp(JIT_LOGIN_PATTERN);
export function isJitLoginName(login: string): boolean {
  return login.length <= mysqlProfile.maxLoginLength && JIT_LOGIN_NAME.test(login);
}

/**
 * Why an account with a ledger row is still not jit's, or null. jit's logins hold no global
 * privilege and are never roles: a forged row naming the admin, `jit_backup`@'%' with RELOAD or
 * a role must not make `revoke --all` or `reap` drop it.
 */
export function accountNotJits(login: string, rows: readonly Row[]): string | null {
  if (!isJitLoginName(login)) return `its name is not a jit login name (${LOGIN_PREFIX}<user>_<random>, lower-case letters and digits)`;
  if (rows.some((r) => String(r.host) === '')) return 'it is a role';
  const privileged = rows.filter((r) => String(r.privs ?? '').includes('Y')).map((r) => String(r.host));
  if (privileged.length > 0) return `it holds global privileges (at ${privileged.map((h) => `'${h}'`).join(', ')}), which jit never grants`;
  return null;
}

/** An account without a ledger row is not jit's, whatever its name (DESIGN §3): never touch it. */
export function notJits(login: string, why = 'it has no row in the jit.leases ledger'): JitError {
  return new JitError(`refusing to touch account ${login}: ${why}, so jit did not mint it`, {
    hint: "jit only revokes its own logins; see 'jit list --all'",
    exitCode: EXIT.usage,
  });
}

/** Take the login's named lock: concurrent revokes (and extend) of one login take turns. */
export async function withLoginLock<T>(db: Db, login: string, fn: () => Promise<T>): Promise<T> {
  // A timeout (0) means another revoke is stuck: every step below is idempotent, so go on.
  await db.rows(GET_LOCK_SQL, [lockName(login), LOCK_WAIT_S]);
  try {
    return await fn();
  } finally {
    await db.rows(RELEASE_LOCK_SQL, [lockName(login)]).catch(() => {});
  }
}

/**
 * DESIGN §4: ACCOUNT LOCK → KILL every thread of the user → DROP USER IF EXISTS → ledger row
 * and event. Keeps going past failed steps and reports them; the ledger row stays while an
 * account does, so the login stays findable for the next try.
 */
export async function revokeLogin(db: Db, login: string): Promise<RevokeResult> {
  return withLoginLock(db, login, () => revokeLocked(db, login));
}

async function revokeLocked(db: Db, login: string): Promise<RevokeResult> {
  const [accounts, ours] = [await db.rows(ACCOUNT_HOSTS_SQL, [login]), await hasLedgerRow(db, login)];
  const hosts = accounts.map((r) => String(r.host));
  if (!ours) {
    if (hosts.length > 0) throw notJits(login);
    return { login, gone: true, alreadyGone: true, terminated: 0, errors: [] };
  }
  const why = hosts.length > 0 ? accountNotJits(login, accounts) : null;
  if (why) throw notJits(login, why);
  const errors: string[] = [];
  const step = async <T>(name: string, fn: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await fn();
    } catch (err) {
      errors.push(`${name}: ${stepMessage(err)}`);
      return undefined;
    }
  };
  let terminated = 0;
  if (hosts.length > 0) {
    await step('block login', () => db.run(lockAccountsSql(login, hosts)));
    terminated = (await step('end sessions', () => killThreads(db, [login])))?.get(login) ?? 0;
    await step('drop user', () => db.run(dropUsersSql(login, hosts)));
    // DROP USER leaves sessions alive: a thread that was still authenticating when KILL ran
    // is found by its user name (PROCESSLIST keeps it after the drop) and killed too.
    const left = await step('end sessions', () => waitThreadsGone(db, [login]));
    if (left && left.size > 0) errors.push(`end sessions: ${left.get(login)} session(s) still running`);
  }
  const remaining = (await step('check accounts', () => accountHosts(db, login))) ?? hosts;
  if (remaining.length === 0) {
    await step('remove ledger row', () => db.run(LEDGER_DELETE_SQL, [login]));
    await step('drop expiry event', () => db.run(dropEventSql(login)));
  }
  return { login, gone: remaining.length === 0, ...(hosts.length === 0 ? { alreadyGone: true } : {}), terminated, errors };
}

/** KILL CONNECTION every thread of these users; 1094 (the thread ended meanwhile) is fine. Counts per login. */
async function killThreads(db: Db, logins: string[]): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  const rows: Row[] =
    logins.length === 1 ? (await db.rows(THREADS_SQL, [logins[0]])).map((r) => ({ ...r, login: logins[0] })) : await db.rows(THREADS_MANY_SQL(logins.length), logins);
  for (const r of rows) {
    try {
      await db.run(killSql(String(r.id)));
      counts.set(String(r.login), (counts.get(String(r.login)) ?? 0) + 1);
    } catch (err) {
      if (errorNumber(err) !== ER.NO_SUCH_THREAD) throw err;
    }
  }
  return counts;
}

/** Kill again whatever is left, then wait for killed threads to leave PROCESSLIST; returns survivors per login. */
async function waitThreadsGone(db: Db, logins: string[]): Promise<Map<string, number>> {
  const left = new Map<string, number>();
  const deadline = Date.now() + THREAD_WAIT_MS;
  let killedAgain = false;
  for (;;) {
    const rows = await db.rows(THREADS_MANY_SQL(logins.length), logins);
    left.clear();
    for (const r of rows) left.set(String(r.login), (left.get(String(r.login)) ?? 0) + 1);
    if (left.size === 0 || Date.now() >= deadline) return left;
    if (!killedAgain) {
      await killThreads(db, [...left.keys()]);
      killedAgain = true;
    }
    await new Promise((r) => setTimeout(r, THREAD_POLL_MS));
  }
}

/**
 * Many logins of one server (`revoke --all`, the reaper's batch): lock every account of every
 * login in one statement before any session ends, kill all their threads, drop the accounts in
 * batches, then the ledger rows and events. Anything a batch step cannot do goes through the
 * single-login steps, so each failure is reported against its own login.
 */
export async function revokeLogins(db: Db, requests: RevokeRequest[]): Promise<RevokeResult[]> {
  const logins = [...new Set(requests.map((r) => r.login))].sort();
  if (logins.length === 0) return [];
  const held: string[] = [];
  try {
    // Sorted order: two batches never wait on each other in a cycle.
    for (const login of logins) {
      await db.rows(GET_LOCK_SQL, [lockName(login), LOCK_WAIT_S]);
      held.push(login);
    }
    const results = await revokeManyLocked(db, logins);
    return requests.map((r) => results.get(r.login)!);
  } finally {
    for (const login of held) await db.rows(RELEASE_LOCK_SQL, [lockName(login)]).catch(() => {});
  }
}

async function revokeManyLocked(db: Db, logins: string[]): Promise<Map<string, RevokeResult>> {
  const results = new Map<string, RevokeResult>();
  const hostsOf = new Map<string, string[]>();
  const rowsOf = new Map<string, Row[]>();
  for (const r of await db.rows(ACCOUNT_HOSTS_MANY_SQL(logins.length), logins)) {
    const l = String(r.login);
    hostsOf.set(l, [...(hostsOf.get(l) ?? []), String(r.host)]);
    rowsOf.set(l, [...(rowsOf.get(l) ?? []), r]);
  }
  const single = async (login: string, before = 0) => {
    try {
      const res = await revokeLocked(db, login);
      results.set(login, { ...res, terminated: res.terminated + before });
    } catch (err) {
      results.set(login, { login, gone: false, terminated: before, errors: [stepMessage(err)] });
    }
  };
  const batch: string[] = [];
  for (const login of logins) {
    const ours = await hasLedgerRow(db, login);
    if (!ours || !hostsOf.has(login) || accountNotJits(login, rowsOf.get(login)!)) await single(login);
    else batch.push(login);
  }
  if (batch.length === 0) return results;
  const accounts = batch.flatMap((login) => hostsOf.get(login)!.map((host) => ({ login, host })));

  // 1. Block every login at once: none can log in again once this returns.
  try {
    await db.run(lockManySql(accounts));
  } catch {
    for (const login of batch) await single(login);
    return results;
  }
  // 2. End every session, 3. drop the accounts in batches.
  let killed: Map<string, number>;
  try {
    killed = await killThreads(db, batch);
  } catch {
    for (const login of batch) await single(login);
    return results;
  }
  const failed = new Set<string>();
  for (let i = 0; i < accounts.length; i += DROP_BATCH) {
    const chunk = accounts.slice(i, i + DROP_BATCH);
    try {
      await db.run(dropAccountsSql(chunk));
    } catch {
      chunk.forEach((a) => failed.add(a.login));
    }
  }
  const left = await waitThreadsGone(db, batch).catch(() => null);
  for (const login of batch) {
    const n = killed.get(login) ?? 0;
    if (failed.has(login) || left === null) {
      await single(login, n);
      continue;
    }
    const errors: string[] = [];
    if (left.has(login)) errors.push(`end sessions: ${left.get(login)} session(s) still running`);
    for (const [name, sql, params] of [
      ['remove ledger row', LEDGER_DELETE_SQL, [login]],
      ['drop expiry event', dropEventSql(login), undefined],
    ] as const) {
      try {
        await db.run(sql, params ? [...params] : undefined);
      } catch (err) {
        errors.push(`${name}: ${stepMessage(err)}`);
      }
    }
    results.set(login, { login, gone: true, terminated: n, errors });
  }
  return results;
}
