import type { Deps } from '../deps.js';
import { canPrompt } from '../io.js';
import { EXIT, JitError, usageError } from '../../core/errors.js';
import { revokeLease } from '../../lifecycle/revoke.js';
import { closeAll, discoverLogins, revokeFound, selectDatabases, type DatabaseLogins, type LoginOutcome } from '../../lifecycle/server-logins.js';
import { LOGIN_PREFIX } from '../../core/names.js';
import { notice, printJson, problem, table } from '../output.js';
import { pickLease } from '../pick-lease.js';

interface RevokeFlags {
  all?: boolean;
  database?: string;
  yes?: boolean;
}

/** `jit revoke LEASE_ID|USER` or `jit revoke --all [--database DB] [--yes]`. */
export async function run([target]: [string | undefined], flags: RevokeFlags, deps: Deps): Promise<number> {
  if (flags.all) {
    if (target) throw usageError('pass either a lease or --all, not both', 'jit revoke LEASE_ID, or jit revoke --all');
    return revokeAll(flags, deps);
  }
  target ??= await pickLease(deps, 'revoke', { message: 'missing lease id or login', hint: 'jit revoke LEASE_ID (see jit list), or jit revoke --all' });

  const lease = await deps.leases.find(target);
  if (lease && (!flags.database || lease.database === flags.database)) {
    const res = await revokeLease(lease, deps, 'manual');
    report(deps, [{ database: lease.database, login: lease.user, ok: true, terminated: res.terminated, ...(res.alreadyGone ? { alreadyGone: true } : {}) }]);
    return 0;
  }
  // Revoking twice succeeds, as revocation does when the login is already gone (scripts rely on
  // it); the audit trail tells a finished revocation from a typo.
  const done = (await deps.audit.read()).reverse().find((e) => e.event === 'revoke' && (e.lease === target || e.login === target));
  if (done) {
    notice(deps.io, `${done.login ?? target} was already revoked (${done.time}, cause ${done.cause ?? 'unknown'})`);
    if (deps.io.json) printJson(deps.io, [{ database: done.database, login: done.login, ok: true, terminated: 0, alreadyGone: true }]);
    return 0;
  }
  if (!target.startsWith(LOGIN_PREFIX)) {
    throw usageError(`no lease "${target}" on this machine`, 'see `jit list`; to revoke a login minted elsewhere pass its name (jit_…)');
  }
  // A login minted on another machine: find it on the servers through its marker.
  const policy = await deps.policy();
  const found = await discoverLogins(policy, selectDatabases(policy, flags.database), deps, { keep: true });
  try {
    const hits = found.filter((f) => f.logins.some((l) => l.login === target));
    if (hits.length === 0) {
      const unreachable = found.filter((f) => f.error).map((f) => f.db.name);
      throw new JitError(`no jit login "${target}" on ${unreachable.length ? 'the reachable databases' : 'any configured database'}`, {
        exitCode: unreachable.length ? EXIT.runtime : EXIT.usage,
        hint: unreachable.length ? `could not reach: ${unreachable.join(', ')}` : 'see `jit list --all`',
      });
    }
    const outcomes = await revokeFound(hits, (f) => f.logins.filter((l) => l.login === target), 'manual', deps);
    report(deps, outcomes);
    return outcomes.every((o) => o.ok) ? 0 : 1;
  } finally {
    await closeAll(found);
  }
}

async function revokeAll(flags: RevokeFlags, deps: Deps): Promise<number> {
  // A usage error touches no server: refuse before asking any of them.
  if (!flags.yes && !canPrompt(deps.io)) {
    throw usageError('revoke --all needs confirmation', `pass --yes to confirm (${deps.io.noPrompt ? 'JIT_NO_PROMPT is set' : 'no terminal to ask on'})`);
  }
  const policy = await deps.policy();
  // With --yes the sessions that list the logins revoke them too: one admin login per server.
  // (Not across a question on a terminal, which may outlast a server's idle timeout.)
  const found = await discoverLogins(policy, selectDatabases(policy, flags.database), deps, { keep: Boolean(flags.yes) });
  try {
    return await confirmAndRevoke(found, flags, deps);
  } finally {
    await closeAll(found);
  }
}

async function confirmAndRevoke(found: DatabaseLogins[], flags: RevokeFlags, deps: Deps): Promise<number> {
  const total = found.reduce((n, f) => n + f.logins.length, 0);
  for (const f of found) if (f.error) problem(deps.io, `error: ${f.db.name}: ${f.error}`);
  if (total > 0 && !flags.yes) {
    problem(deps.io, confirmList(found));
    const ok = await (await deps.prompter()).confirm(`Revoke these ${total} login(s) and end their sessions?`, false);
    // Declining is an answer, not a failure: no `error:` line. The exit code stays 130 (DESIGN §1:
    // cancelled at a prompt), so a script can still tell that nothing was revoked.
    if (!ok) {
      problem(deps.io, 'nothing was revoked');
      return EXIT.cancelled;
    }
  }
  const outcomes = await revokeFound(found, (f) => f.logins, 'revoke-all', deps);
  report(deps, outcomes);
  if (total === 0 && !found.some((f) => f.error)) notice(deps.io, 'no jit logins found');
  const unreachable = found.some((f) => f.error);
  return outcomes.every((o) => o.ok) && !unreachable ? 0 : 1;
}

/** The logins `revoke --all` is about to revoke, in aligned columns, indented under the question. */
export function confirmList(found: Array<Pick<DatabaseLogins, 'db' | 'logins'>>): string {
  const rows = [['DATABASE', 'LOGIN', 'REQUESTER', 'ROLE']];
  for (const f of found) for (const l of f.logins) rows.push([f.db.name, l.login, l.marker ? `${l.marker.requester}@${l.marker.requester_host}` : '?', l.marker?.role ?? '?']);
  return table(rows)
    .trimEnd()
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
}

function report(deps: Deps, outcomes: LoginOutcome[]): void {
  if (deps.io.json) {
    printJson(deps.io, outcomes);
    return;
  }
  // One write per run of lines of a kind: `revoke --all` over 1000 logins must not pay 1000 writes.
  const runs: Array<{ ok: boolean; lines: string[] }> = [];
  for (const o of outcomes) {
    const done = o.alreadyGone ? `${o.login} on ${o.database} was already gone (dropped outside jit)` : `revoked ${o.login} on ${o.database}`;
    const line = o.ok ? `${done}${o.terminated ? ` (${o.terminated} session(s) ended)` : ''}` : `failed ${o.login} on ${o.database}: ${o.error}`;
    const last = runs[runs.length - 1];
    if (last && last.ok === o.ok) last.lines.push(line);
    else runs.push({ ok: o.ok, lines: [line] });
  }
  for (const r of runs) (r.ok ? notice : problem)(deps.io, r.lines.join('\n'));
}
