import type { Deps } from '../deps.js';
import { selectDatabases, adminRefOfDb, homeFinder } from '../../lifecycle/server-logins.js';
import { withAdmin } from '../../lifecycle/admin-access.js';
import { redact } from '../../core/redact.js';
import { printData, printJson, notice, table, reportPerServer } from '../output.js';
import { serverKeyOf } from '../../engines/engine.js';
import type { DatabaseConfig } from '../../policy/types.js';

/** `jit sessions [DB]`: live sessions of jit logins, for on-call. */
export async function run([database]: [string | undefined], _flags: unknown, deps: Deps): Promise<number> {
  const policy = await deps.policy();
  const rows: Array<Record<string, unknown>> = [];
  // Sessions are server-wide: ask each server once, through the first of its databases that
  // answers, and show each session under the policy database its login belongs to.
  const servers = new Map<string, DatabaseConfig[]>();
  for (const db of selectDatabases(policy, database)) servers.set(serverKeyOf(db), [...(servers.get(serverKeyOf(db)) ?? []), db]);
  const failures: Array<{ db: DatabaseConfig; error: string }> = [];
  for (const members of servers.values()) {
    let error = '';
    let served = false;
    for (const db of members) {
      try {
        await withAdmin(adminRefOfDb(db), deps, async ({ session }) => {
          const [sessions, logins] = await Promise.all([session.sessions(), session.listLogins()]);
          const markers = new Map(logins.map((l) => [l.login, l.marker]));
          const homeOf = homeFinder(policy, db);
          for (const s of sessions) {
            const m = markers.get(s.login) ?? null;
            const home = members.find((d) => d.name === homeOf(m).name);
            if (!home) continue;
            rows.push({
              database: home.name,
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
        served = true;
        break;
      } catch (err) {
        error = redact(err instanceof Error ? err.message : String(err));
      }
    }
    if (!served) failures.push(...members.map((db) => ({ db, error })));
  }
  reportPerServer(failures, deps.io);
  const failed = failures.length;
  if (deps.io.json) printJson(deps.io, rows);
  else if (rows.length === 0 && !failed) notice(deps.io, 'no sessions of jit logins');
  else if (rows.length > 0) {
    const t = [['DATABASE', 'LOGIN', 'REQUESTER', 'PID', 'CLIENT', 'SINCE', 'STATE', 'QUERY']];
    for (const r of rows) {
      const q = String(r.query ?? '').replace(/\s+/g, ' ');
      t.push([String(r.database), String(r.user), String(r.requester ?? '?'), String(r.pid), String(r.client_addr ?? 'local'), String(r.since ?? ''), String(r.state ?? ''), q.length > 60 ? `${q.slice(0, 57)}...` : q]);
    }
    printData(deps.io, table(t).trimEnd());
  }
  return failed ? 1 : 0;
}
