import type { AdminAccessDeps, LeaseDeps } from './context.js';
import type { DatabaseConfig, Policy } from '../policy/types.js';
import type { AdminSession, LeaseMarker, ServerLogin } from '../engines/engine.js';
import type { RevokeCause } from '../leases/audit-log.js';
import { serverKeyOf, targetFromConfig } from '../engines/engine.js';
import { usageError } from '../core/errors.js';
import { redact } from '../core/redact.js';
import { openAdmin, withAdmin, type AdminRef } from './admin-access.js';
import { leaseFields } from '../leases/audit-log.js';
import { actorOf } from './revoke.js';

/** Audit fields from the lease the server keeps, for logins minted on another machine. */
function markerFields(m: LeaseMarker): Record<string, string> {
  return {
    lease: m.id,
    role: m.role,
    requester: m.requester,
    requester_host: m.requester_host,
    ...(m.reason ? { reason: m.reason } : {}),
    expires_at: m.expires_at,
  };
}

/** Everything the admin of db lacks to serve the policy: its own privileges, then each role's grants. */
export async function adminProblems(session: AdminSession, db: DatabaseConfig): Promise<string[]> {
  const problems = await session.checkPrivileges();
  for (const role of Object.values(db.roles)) {
    for (const p of await session.checkGrants(role.grants, role.memberOf)) problems.push(`role ${role.name}: ${p}`);
  }
  return problems;
}

export function adminRefOfDb(db: DatabaseConfig): AdminRef {
  return { database: db.name, target: targetFromConfig(db), adminSource: db.admin.password };
}

/** The configured databases a command covers: one named with --database, or all. */
export function selectDatabases(policy: Policy, only?: string): DatabaseConfig[] {
  if (only) {
    const db = policy.databases[only];
    if (!db) throw usageError(`database "${only}" is not in ${policy.file}`, `known: ${Object.keys(policy.databases).join(', ')}`);
    return [db];
  }
  return Object.values(policy.databases);
}

export interface DatabaseLogins {
  db: DatabaseConfig;
  /**
   * jit logins filed under this policy database: the one their lease names, else (no readable
   * lease comment, e.g. edited by hand) the first policy database on that server. Membership in
   * the marker role is what makes a login jit's; the engine refuses anything else.
   */
  logins: ServerLogin[];
  serverNow?: Date;
  error?: string;
  /**
   * With `keep`: the admin session the logins were listed in, shared by the databases of one
   * server, for the revocation that follows (one login to the server, not two). closeAll ends it.
   */
  session?: AdminSession;
}

const clusterKey = serverKeyOf;

/**
 * The policy database a login on db's server belongs to: the one its marker names, else the
 * first on that server. Built once per server: `revoke --all` asks it for every login.
 */
export function homeFinder(policy: Policy, db: DatabaseConfig): (marker: LeaseMarker | null) => DatabaseConfig {
  const onServer = Object.values(policy.databases).filter((d) => clusterKey(d) === clusterKey(db));
  const byName = new Map(onServer.map((d) => [d.name, d]));
  const fallback = onServer[0] ?? db;
  return (marker) => (marker ? byName.get(marker.database) : undefined) ?? fallback;
}

/**
 * Ask each server behind the selected databases, once per server, for its jit logins, and
 * file each login under the policy database its marker names (else the first one configured on
 * that server), so `--database` limits what is listed and revoked and nothing is done twice.
 * A server that fails is reported, not fatal.
 */
export async function discoverLogins(policy: Policy, selected: DatabaseConfig[], deps: AdminAccessDeps, opts: { keep?: boolean } = {}): Promise<DatabaseLogins[]> {
  const clusters = new Map<string, DatabaseConfig[]>();
  for (const db of selected) clusters.set(clusterKey(db), [...(clusters.get(clusterKey(db)) ?? []), db]);
  const results = await Promise.all(
    [...clusters.values()].map(async (members) => {
      let lastError = '';
      for (const db of members) {
        try {
          const { session } = await openAdmin(adminRefOfDb(db), deps);
          let listed: [ServerLogin[], Date];
          try {
            listed = await Promise.all([session.listLogins(), session.serverTime()]);
          } catch (err) {
            await session.close().catch(() => {});
            throw err;
          }
          if (!opts.keep) await session.close().catch(() => {});
          const [logins, serverNow] = listed;
          const homeOf = homeFinder(policy, db);
          const homes = new Map(logins.map((l) => [l.login, homeOf(l.marker).name]));
          return members.map((m) => ({
            db: m,
            logins: logins.filter((l) => homes.get(l.login) === m.name),
            serverNow,
            ...(opts.keep ? { session } : {}),
          }));
        } catch (err) {
          lastError = redact(err instanceof Error ? err.message : String(err));
        }
      }
      return members.map((m) => ({ db: m, logins: [], error: lastError }));
    }),
  );
  return results.flat();
}

export interface LoginOutcome {
  database: string;
  login: string;
  ok: boolean;
  terminated: number;
  alreadyGone?: boolean;
  error?: string;
}

/** End the sessions discoverLogins kept. */
export async function closeAll(found: DatabaseLogins[]): Promise<void> {
  await Promise.all([...new Set(found.map((f) => f.session).filter((s) => s !== undefined))].map((s) => s.close().catch(() => {})));
}

/**
 * Revoke what pick chooses of each database's logins: the servers in parallel, the databases of
 * one server one after another in the session their logins were listed in (kept by
 * discoverLogins), else in a new one.
 */
export async function revokeFound(found: DatabaseLogins[], pick: (f: DatabaseLogins) => ServerLogin[], cause: RevokeCause, deps: LeaseDeps): Promise<LoginOutcome[]> {
  const byServer = new Map<string, DatabaseLogins[]>();
  for (const f of found) byServer.set(clusterKey(f.db), [...(byServer.get(clusterKey(f.db)) ?? []), f]);
  const perServer = await Promise.all(
    [...byServer.values()].map(async (members) => {
      const outcomes: LoginOutcome[] = [];
      for (const f of members) {
        const logins = f.error ? [] : pick(f);
        if (logins.length) outcomes.push(...(await revokeServerLogins(f.db, logins, cause, deps, f.session)));
      }
      return outcomes;
    }),
  );
  return perServer.flat();
}

/** Revoke logins found on one server, in one admin session (`session`, else a new one); also forget matching local leases. */
export async function revokeServerLogins(db: DatabaseConfig, found: ServerLogin[], cause: RevokeCause, deps: LeaseDeps, open?: AdminSession): Promise<LoginOutcome[]> {
  const outcomes: LoginOutcome[] = [];
  const logins = found.map((l) => l.login);
  const inSession = <T>(fn: (a: { session: AdminSession }) => Promise<T>) => (open ? fn({ session: open }) : withAdmin(adminRefOfDb(db), deps, fn));
  try {
    await inSession(async ({ session }) => {
      // All of them together: every login is blocked before any is dropped (revokeMany).
      const results = await session.revokeMany(found.map((l) => ({ login: l.login, ...(l.marker ? { leaseId: l.marker.id } : {}) })));
      for (const res of results) {
        const ok = res.gone && res.errors.length === 0;
        outcomes.push({
          database: db.name,
          login: res.login,
          ok,
          terminated: res.terminated,
          ...(res.alreadyGone ? { alreadyGone: true } : {}),
          ...(ok ? {} : { error: redact(res.errors.join('; ') || 'still exists') }),
        });
      }
    });
  } catch (err) {
    const error = redact(err instanceof Error ? err.message : String(err));
    const reported = new Set(outcomes.map((o) => o.login));
    for (const login of logins) if (!reported.has(login)) outcomes.push({ database: db.name, login, ok: false, terminated: 0, error });
  }
  const local = new Map((await deps.leases.list()).filter((l) => l.database === db.name).map((l) => [l.user, l]));
  const markers = new Map(found.map((l) => [l.login, l.marker]));
  const entries: Parameters<LeaseDeps['audit']['append']> = [];
  for (const o of outcomes) {
    const lease = local.get(o.login);
    if (o.ok && lease) await deps.leases.remove(lease.id);
    const marker = markers.get(o.login);
    entries.push({
      event: o.ok ? 'revoke' : 'revoke-failed',
      cause,
      database: db.name,
      login: o.login,
      ...(marker ? markerFields(marker) : {}),
      ...(lease ? leaseFields(lease) : {}),
      actor: actorOf(deps),
      ...(o.ok ? { terminated_sessions: o.terminated } : { error: o.error }),
      ...(o.alreadyGone ? { already_gone: true } : {}),
    });
  }
  // One append for the whole batch: `revoke --all` over 1000 logins writes the trail once.
  await deps.audit.append(...entries);
  return outcomes;
}
