import type { Deps } from '../deps.js';
import type { Lease } from '../../leases/lease.js';
import { isDue, serverNow } from '../../leases/lease.js';
import { discoverLogins, selectDatabases } from '../../lifecycle/server-logins.js';
import { reconcileLeases, type Reconciled } from '../../lifecycle/reconcile.js';
import { notice, printData, printJson, relative, table, problem, reportPerServer } from '../output.js';

function localState(lease: Lease, now: number, checked: Reconciled): string {
  if (checked.revokedElsewhere.has(lease.id)) return 'revoked-elsewhere';
  if (lease.state !== 'active') return lease.state;
  return isDue(lease, now) ? 'expired' : 'active';
}

/** `jit list`: this machine's leases. `--all`: every jit login on every configured server. */
export async function run(_args: unknown[], flags: { all?: boolean; database?: string }, deps: Deps): Promise<number> {
  const now = deps.now();
  if (flags.all) return listAll(flags.database, deps);
  // A database name that is not in the policy is a typo, as with every other command.
  if (flags.database) {
    const policy = await deps.policy().catch(() => null);
    if (policy) selectDatabases(policy, flags.database);
  }
  const scan = await deps.leases.scan();
  const leases = scan.leases.filter((l) => !flags.database || l.database === flags.database);
  // A planted, edited or truncated lease file is never acted on; say so rather than hide it.
  for (const u of scan.unreadable) {
    problem(deps.io, `warning: ${u.reason}; jit does not act on it`);
  }
  if (scan.unreadable.length > 0) {
    problem(deps.io, 'hint: jit reap (or revoke --all) finds its login on the server, if it has one; delete the file once you know where it came from');
  }
  // After `revoke --all` from another machine (or a DBA's DROP ROLE) the servers know better.
  const checked = await reconcileLeases(leases, deps);
  for (const p of checked.problems) problem(deps.io, `warning: ${p}`);
  if (deps.io.json) {
    printJson(
      deps.io,
      leases.map((l) => ({
        id: l.id,
        database: l.database,
        role: l.role,
        user: l.user,
        created_at: l.createdAt,
        expires_at: l.expiresAt,
        state: localState(l, now, checked),
        ...(checked.unverified.has(l.id) ? { verified: false } : {}),
      })),
    );
    return 0;
  }
  if (leases.length === 0) {
    notice(deps.io, 'no leases on this machine (jit list --all asks the servers)');
    return 0;
  }
  const rows = [['ID', 'DATABASE', 'ROLE', 'LOGIN', 'EXPIRES', 'STATE']];
  for (const l of leases) {
    const state = localState(l, now, checked);
    const note = state === 'revoked-elsewhere' ? ' (login gone from the server; lease removed)' : checked.unverified.has(l.id) ? ' (unverified)' : l.lastError ? ` (${l.lastError})` : '';
    rows.push([l.id, l.database, l.role, l.user, relative(l.expiresAt, serverNow(l, now)), state + note]);
  }
  printData(deps.io, table(rows).trimEnd());
  return 0;
}

async function listAll(database: string | undefined, deps: Deps): Promise<number> {
  const policy = await deps.policy();
  const found = await discoverLogins(policy, selectDatabases(policy, database), deps);
  const rows: Array<Record<string, unknown>> = [];
  for (const { db, logins, serverNow } of found) {
    const now = serverNow?.getTime() ?? deps.now();
    for (const l of logins) {
      const expires = l.marker?.expires_at ?? l.validUntil?.toISOString() ?? null;
      rows.push({
        id: l.marker?.id ?? null,
        database: db.name,
        role: l.marker?.role ?? null,
        user: l.login,
        created_at: l.marker?.created_at ?? null,
        expires_at: expires,
        state: expires && Date.parse(expires) <= now ? 'expired' : 'active',
        requester: l.marker ? `${l.marker.requester}@${l.marker.requester_host}` : null,
        reason: l.marker?.reason ?? null,
        sessions: l.sessions,
        server_now: now,
      });
    }
  }
  const failed = found.filter((f) => f.error);
  reportPerServer(failed.map((f) => ({ db: f.db, error: f.error! })), deps.io);
  if (deps.io.json) printJson(deps.io, rows.map(({ server_now: _, ...row }) => row));
  else if (rows.length === 0 && failed.length === 0) notice(deps.io, 'no jit logins on the configured databases');
  else if (rows.length > 0) {
    const t = [['DATABASE', 'LOGIN', 'REQUESTER', 'ROLE', 'EXPIRES', 'SESSIONS', 'REASON']];
    for (const r of rows) {
      t.push([String(r.database), String(r.user), String(r.requester ?? '?'), String(r.role ?? '?'), r.expires_at ? `${relative(String(r.expires_at), Number(r.server_now))}${r.state === 'expired' ? ' (expired)' : ''}` : 'never', String(r.sessions), String(r.reason ?? '')]);
    }
    printData(deps.io, table(t).trimEnd());
  }
  return failed.length > 0 ? 1 : 0;
}
