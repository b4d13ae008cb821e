import type { Deps } from '../deps.js';
import { isAbandonedIntent, isDue } from '../../leases/lease.js';
import { revokeLease } from '../../lifecycle/revoke.js';
import { closeAll, discoverLogins, revokeFound, selectDatabases, type DatabaseLogins, type LoginOutcome } from '../../lifecycle/server-logins.js';
import { notice, printJson, problem } from '../output.js';
import { redact } from '../../core/redact.js';

/**
 * `jit reap [--database DB]`: revoke every expired jit login found on the servers (by the
 * server's clock), plus this machine's due leases. Needs no local state: for cron, systemd
 * timers and Kubernetes CronJobs.
 */
export async function run(_args: unknown[], flags: { database?: string }, deps: Deps): Promise<number> {
  const policy = await deps.policy();
  const dbs = selectDatabases(policy, flags.database);
  const outcomes: LoginOutcome[] = [];
  const now = deps.now();
  for (const lease of await deps.leases.list()) {
    if (flags.database && lease.database !== flags.database) continue;
    if (!isDue(lease, now) && !isAbandonedIntent(lease, now)) continue;
    try {
      const res = await revokeLease(lease, deps, 'reap');
      outcomes.push({ database: lease.database, login: lease.user, ok: true, terminated: res.terminated });
    } catch (err) {
      outcomes.push({ database: lease.database, login: lease.user, ok: false, terminated: 0, error: redact(err instanceof Error ? err.message : String(err)) });
    }
  }
  const found = await discoverLogins(policy, dbs, deps, { keep: true });
  const swept: Array<{ database: string; job: string }> = [];
  let sweepFailed = false;
  try {
    for (const f of found) if (f.error) problem(deps.io, `error: ${f.db.name}: ${f.error}`);
    const local = [...outcomes];
    const expired = (f: DatabaseLogins) => {
      const serverNow = (f.serverNow ?? new Date()).getTime();
      return f.logins
        .filter((l) => {
          const until = l.marker?.expires_at ? Date.parse(l.marker.expires_at) : (l.validUntil?.getTime() ?? NaN);
          return Number.isFinite(until) && until <= serverNow;
        })
        .filter((l) => !local.some((o) => o.login === l.login && o.database === f.db.name));
    };
    outcomes.push(...(await revokeFound(found, expired, 'reap', deps)));
    // Server-side expiry jobs whose login is gone (a pg_cron job that ran, a login dropped by
    // hand), once per server, in the session that listed its logins.
    const seen = new Set<object>();
    for (const f of found) {
      if (!f.session || seen.has(f.session)) continue;
      seen.add(f.session);
      try {
        for (const job of (await f.session.sweepBackstops?.()) ?? []) swept.push({ database: f.db.name, job });
      } catch (err) {
        sweepFailed = true;
        problem(deps.io, `error: ${f.db.name}: could not remove stale expiry jobs: ${redact(err instanceof Error ? err.message : String(err))}`);
      }
    }
  } finally {
    await closeAll(found);
  }
  if (deps.io.json) printJson(deps.io, outcomes);
  else {
    for (const o of outcomes) {
      if (o.ok) notice(deps.io, `reaped ${o.login} on ${o.database}${o.terminated ? ` (${o.terminated} session(s) ended)` : ''}`);
      else problem(deps.io, `failed ${o.login} on ${o.database}: ${o.error}`);
    }
    for (const s of swept) notice(deps.io, `removed stale expiry job ${s.job} on ${s.database}`);
    if (outcomes.length === 0 && !found.some((f) => f.error)) notice(deps.io, 'nothing expired');
  }
  return outcomes.every((o) => o.ok) && !found.some((f) => f.error) && !sweepFailed ? 0 : 1;
}
