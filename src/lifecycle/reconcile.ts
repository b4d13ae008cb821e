import type { LeaseDeps } from './context.js';
import type { Lease } from '../leases/lease.js';
import { isDue } from '../leases/lease.js';
import { leaseFields } from '../leases/audit-log.js';
import { redact } from '../core/redact.js';
import { withAdmin } from './admin-access.js';
import { adminRefOf } from './lease-ref.js';
import { actorOf } from './revoke.js';

/** The whole check's budget: `jit list` must answer quickly even with a server down. */
export const RECONCILE_BUDGET_MS = 3_000;

export interface Reconciled {
  /** Lease ids whose login no longer exists on its server (revoked from another machine, or by a DBA). */
  revokedElsewhere: Set<string>;
  /** Lease ids that could not be checked, and why, per policy database. */
  unverified: Map<string, string>;
  /** One line per policy database that could not be checked. */
  problems: string[];
}

const serverKey = (l: Lease) => JSON.stringify([l.database, l.adminSource, l.target.host, l.target.port, l.target.database, l.target.adminUser]);

/**
 * Ask each server (in parallel, within RECONCILE_BUDGET_MS in all) whether the logins of this
 * machine's active leases still exist. A login that is gone was revoked elsewhere: its lease
 * file goes and the audit trail says so. Expired and revoking leases are the reaper's to finish.
 */
export async function reconcileLeases(leases: Lease[], deps: LeaseDeps, budgetMs = RECONCILE_BUDGET_MS): Promise<Reconciled> {
  const out: Reconciled = { revokedElsewhere: new Set(), unverified: new Map(), problems: [] };
  const now = deps.now();
  const groups = new Map<string, Lease[]>();
  for (const l of leases) {
    if (l.state !== 'active' || isDue(l, now)) continue;
    const k = serverKey(l);
    groups.set(k, [...(groups.get(k) ?? []), l]);
  }
  if (groups.size === 0) return out;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), budgetMs)));
  await Promise.all(
    [...groups.values()].map(async (group) => {
      const first = group[0]!;
      const check = withAdmin({ ...adminRefOf(first), target: { ...first.target, connectTimeoutMs: budgetMs } }, deps, async ({ session }) =>
        new Set((await session.listLogins()).map((l) => l.login)),
      );
      check.catch(() => {}); // settled late, after the deadline: nothing to report any more
      let why: string | null = null;
      let present: Set<string> | null = null;
      try {
        const r = await Promise.race([check, deadline]);
        if (r === 'timeout') why = `no answer within ${budgetMs / 1000} s`;
        else present = r;
      } catch (err) {
        why = redact(err instanceof Error ? err.message : String(err));
      }
      if (!present) {
        for (const l of group) out.unverified.set(l.id, why!);
        out.problems.push(`${first.database}: could not check its leases on the server (${why}); they are shown as active, unverified`);
        return;
      }
      for (const l of group) {
        if (present.has(l.user)) continue;
        // Re-read: a local `jit revoke` or the reaper may have taken it over meanwhile.
        const current = await deps.leases.get(l.id).catch(() => null);
        if (!current || current.state !== 'active') continue;
        await deps.leases.remove(l.id);
        await deps.audit.append({ event: 'revoke', cause: 'revoked-elsewhere', ...leaseFields(l), actor: actorOf(deps), already_gone: true });
        out.revokedElsewhere.add(l.id);
      }
    }),
  );
  clearTimeout(timer);
  return out;
}
