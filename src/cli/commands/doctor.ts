import { stat } from 'node:fs/promises';
import type { Deps } from '../deps.js';
import type { Policy } from '../../policy/types.js';
import { describeSource } from '../../secrets/admin-secret.js';
import { withAdmin, adminSecret } from '../../lifecycle/admin-access.js';
import { adminProblems, adminRefOfDb, selectDatabases } from '../../lifecycle/server-logins.js';
import { which } from '../../lifecycle/child.js';
import { ask } from '../../reaper/reaper-client.js';
import { redact } from '../../core/redact.js';
import { isJitError } from '../../core/errors.js';
import { profileOf } from '../../engines/registry.js';
import { printData, printJson } from '../output.js';

interface Check {
  name: string;
  ok: boolean;
  detail: string;
  /** Worth knowing, not a failure: doctor still exits 0. */
  warning?: true;
  /** For a failing check: the command, setting or grant that fixes it. */
  hint?: string;
}

const msg = (err: unknown) => redact(err instanceof Error ? err.message : String(err));
/** The hint a JitError carries (it names the fix), else a generic one. */
const hintOf = (err: unknown, fallback?: string) => {
  const h = isJitError(err) && err.hint ? err.hint : fallback;
  return h ? redact(h) : undefined;
};

/** `jit doctor [DB]`: policy, keychain, admin login and privileges, client binaries, reaper, state dir. */
export async function run([database]: [string | undefined], _flags: unknown, deps: Deps): Promise<number> {
  const checks: Check[] = [];
  const add = (name: string, ok: boolean, detail: string, hint?: string) => checks.push({ name, ok, detail, ...(!ok && hint ? { hint } : {}) });

  let policy: Policy | null = null;
  try {
    policy = await deps.policy();
    add('policy', true, `${policy.file} (${Object.keys(policy.databases).length} database(s))`);
  } catch (err) {
    add('policy', false, msg(err), hintOf(err, 'jit policy check names the line to fix'));
  }
  if (policy) {
    const dbs = selectDatabases(policy, database);
    const inKeychain = dbs.find((d) => d.admin.password === 'keychain');
    if (inKeychain) {
      try {
        // Loading the module proves nothing: a lookup is what talks to the store.
        const k = await deps.keychain();
        await k.get(inKeychain.name);
        add('keychain', true, `${k.backend} reachable`);
      } catch (err) {
        add('keychain', false, msg(err), hintOf(err));
      }
    }
    for (const db of dbs) {
      const ref = adminRefOfDb(db);
      try {
        await adminSecret(ref, deps);
        add(`${db.name}: admin credential`, true, describeSource(db.admin.password));
      } catch (err) {
        add(`${db.name}: admin credential`, false, msg(err), hintOf(err));
        continue;
      }
      try {
        const memberOf = [...new Set(Object.values(db.roles).flatMap((r) => r.memberOf))];
        const [problems, expiry, powers] = await withAdmin(ref, deps, async ({ session }) => [
          await adminProblems(session, db),
          await session.expiryChecks(db.database, memberOf),
          (await session.privilegeWarnings?.()) ?? [],
        ] as const);
        add(`${db.name}: admin login`, problems.length === 0, problems.length ? problems.join('; ') : `${db.admin.user}@${db.host}:${db.port}/${db.database} can grant every role, and revoke`,
          `run each fix named above as a superuser, then 'jit admin test ${db.name}'`);
        for (const p of powers) checks.push({ name: `${db.name}: admin login`, ok: true, detail: p, warning: true });
        for (const c of expiry) checks.push({ ...c, name: `${db.name}: ${c.name}` });
      } catch (err) {
        add(`${db.name}: admin login`, false, msg(err), hintOf(err, `check host, port and tls of ${db.name} in the policy`));
      }
      const engine = await deps.engine(db.engine).catch(() => null);
      if (engine) {
        const client = engine.profile.client.binaries.map((b) => which(b, deps.env)).find(Boolean) ?? null;
        add(`${db.name}: client`, Boolean(client), client ?? `${engine.profile.client.binaries.join(' or ')} not on PATH (needed by jit connect only)`, engine.profile.client.installHint);
      }
    }
  }
  const leases = await deps.leases.list();
  let reaper = 'not running';
  try {
    const reply = await ask(deps.stateDir, { type: 'hello' }, 1000);
    if (reply.ok) reaper = `running (pid ${reply.pid})`;
  } catch {
    // not running
  }
  if (!deps.startReaper) {
    const backstops = [...new Set(Object.values(policy?.databases ?? {}).map((d) => profileOf(d.engine).expiryBackstop))];
    add('reaper', true, `turned off (JIT_NO_REAPER=1): expiry relies on ${[...backstops, '`jit reap`'].join(' and ')}; ${leases.length} local lease(s)`);
  }
  else add('reaper', leases.length === 0 || reaper.startsWith('running'), `${reaper}; ${leases.length} local lease(s)`, 'any jit command starts it again (e.g. jit list); see reaper.log in the state directory for why it stopped');
  const st = await stat(deps.stateDir).catch(() => null);
  add('state directory', !st || (st.mode & 0o077) === 0, st ? `${deps.stateDir} (mode ${(st.mode & 0o777).toString(8)})` : `${deps.stateDir} (not created yet)`, `chmod 700 ${deps.stateDir}`);

  if (deps.io.json) printJson(deps.io, checks);
  else printData(deps.io, checks.map((c) => `${c.warning ? 'warn' : c.ok ? 'ok  ' : 'FAIL'}  ${c.name}: ${c.detail}${c.hint ? `\n      hint: ${c.hint}` : ''}`).join('\n'));
  return checks.every((c) => c.ok) ? 0 : 1;
}
