import type { Deps } from '../deps.js';
import { selectDatabases, adminRefOfDb, homeOf } from '../../lifecycle/server-logins.js';
import { withAdmin } from '../../lifecycle/admin-access.js';
import { redact } from '../../core/redact.js';
import { printData, printJson, notice, table, problem } from '../output.js';

/** `jit sessions [DB]`: live sessions of jit logins, for on-call. */
export async function run([database]: [string | undefined], _flags: unknown, deps: Deps): Promise<number> {
  const policy = await deps.policy();
  const rows: Array<Record<string, unknown>> = [];
  let failed = 0;
  for (const db of selectDatabases(policy, database)) {
    try {
      await withAdmin(adminRefOfDb(db), deps, async ({ session }) => {
        const [sessions, logins] = await Promise.all([session.sessions(), session.listLogins()]);
        for (const s of sessions) {
          const m = logins.find((l) => l.login === s.login)?.marker ?? null;
          // Roles are cluster-wide: show each session under the policy database it belongs to.
          if (homeOf(policy, db, m).name !== db.name) continue;
          rows.push({
            database: db.name,
            user: s.login,
            requester: m ? `${m.requester}@${m.requester_host}` : null,
            role: m?.role ?? null,
            pid: s.pid,
            client_addr: s.clientAddr,
            since: s.since?.toISOString() ?? null,
            state: s.state,
            query: s.query,
          });
        }
      });
    } catch (err) {
      failed++;
      problem(deps.io, `error: ${db.name}: ${redact(err instanceof Error ? err.message : String(err))}`);
    }
  }
  if (deps.io.json) printJson(deps.io, rows);
  else if (rows.length === 0 && !failed) notice(deps.io, 'no sessions of jit logins');
  else {
    const t = [['DATABASE', 'LOGIN', 'REQUESTER', 'PID', 'CLIENT', 'SINCE', 'STATE', 'QUERY']];
    for (const r of rows) {
      const q = String(r.query ?? '').replace(/\s+/g, ' ');
      t.push([String(r.database), String(r.user), String(r.requester ?? '?'), String(r.pid), String(r.client_addr ?? 'local'), String(r.since ?? ''), String(r.state ?? ''), q.length > 60 ? `${q.slice(0, 57)}...` : q]);
    }
    printData(deps.io, table(t).trimEnd());
  }
  return failed ? 1 : 0;
}
