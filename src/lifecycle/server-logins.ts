import type { Deps } from '../cli/deps.js';
import type { DatabaseConfig, Policy } from '../policy/types.js';
import type { LeaseMarker, RevokeResult, ServerLogin } from '../engines/engine.js';
import type { RevokeCause } from '../leases/audit-log.js';
import { targetFromConfig } from '../engines/engine.js';
import { usageError } from '../core/errors.js';
import { redact } from '../core/redact.js';
import { withAdmin, type AdminRef } from './admin-access.js';
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
  logins: ServerLogin[];
  serverNow?: Date;
  error?: string;
}

/** Ask every selected server for its jit logins (in parallel); a server that fails is reported, not fatal. */
export async function discoverLogins(dbs: DatabaseConfig[], deps: Deps): Promise<DatabaseLogins[]> {
  return Promise.all(
    dbs.map(async (db) => {
      try {
        return await withAdmin(adminRefOfDb(db), deps, async ({ session }) => {
          const [logins, serverNow] = await Promise.all([session.listLogins(), session.serverTime()]);
          return { db, logins, serverNow };
        });
      } catch (err) {
        return { db, logins: [], error: redact(err instanceof Error ? err.message : String(err)) };
      }
    }),
  );
}

export interface LoginOutcome {
  database: string;
  login: string;
  ok: boolean;
  terminated: number;
  error?: string;
}

/** Revoke logins found on one server, in one admin session; also forget matching local leases. */
export async function revokeServerLogins(db: DatabaseConfig, found: ServerLogin[], cause: RevokeCause, deps: Deps): Promise<LoginOutcome[]> {
  const outcomes: LoginOutcome[] = [];
  const logins = found.map((l) => l.login);
  try {
    await withAdmin(adminRefOfDb(db), deps, async ({ session }) => {
      for (const login of logins) {
        let res: RevokeResult;
        try {
          res = await session.revoke(login);
        } catch (err) {
          outcomes.push({ database: db.name, login, ok: false, terminated: 0, error: redact(err instanceof Error ? err.message : String(err)) });
          continue;
        }
        const ok = res.gone && res.errors.length === 0;
        outcomes.push({ database: db.name, login, ok, terminated: res.terminated, ...(ok ? {} : { error: res.errors.join('; ') || 'still exists' }) });
      }
    });
  } catch (err) {
    const error = redact(err instanceof Error ? err.message : String(err));
    for (const login of logins) if (!outcomes.some((o) => o.login === login)) outcomes.push({ database: db.name, login, ok: false, terminated: 0, error });
  }
  const local = await deps.leases.list();
  for (const o of outcomes) {
    const lease = local.find((l) => l.user === o.login && l.database === db.name);
    if (o.ok && lease) await deps.leases.remove(lease.id);
    const marker = found.find((l) => l.login === o.login)?.marker;
    await deps.audit.append({
      event: o.ok ? 'revoke' : 'revoke-failed',
      cause,
      database: db.name,
      login: o.login,
      ...(marker ? markerFields(marker) : {}),
      ...(lease ? leaseFields(lease) : {}),
      actor: actorOf(deps),
      ...(o.ok ? { terminated_sessions: o.terminated } : { error: o.error }),
    });
  }
  return outcomes;
}
