import { stat } from 'node:fs/promises';
import type { Deps } from '../deps.js';
import type { Policy } from '../../policy/types.js';
import { describeSource } from '../../secrets/admin-secret.js';
import { withAdmin, adminSecret } from '../../lifecycle/admin-access.js';
import { adminProblems, adminRefOfDb, selectDatabases } from '../../lifecycle/server-logins.js';
import { which } from '../../lifecycle/child.js';
import { ask } from '../../reaper/reaper-client.js';
import { redact } from '../../core/redact.js';
import { printData, printJson } from '../output.js';

interface Check {
  name: string;
  ok: boolean;
  detail: string;
  /** Worth knowing, not a failure: doctor still exits 0. */
  warning?: true;
}

const msg = (err: unknown) => redact(err instanceof Error ? err.message : String(err));

/** `jit doctor [DB]`: policy, keychain, admin login and privileges, client binaries, reaper, state dir. */
export async function run([database]: [string | undefined], _flags: unknown, deps: Deps): Promise<number> {
  const checks: Check[] = [];
  const add = (name: string, ok: boolean, detail: string) => checks.push({ name, ok, detail });
  const warn = (name: string, detail: string) => checks.push({ name, ok: true, detail, warning: true });

  let policy: Policy | null = null;
  try {
    policy = await deps.policy();
    add('policy', true, `${policy.file} (${Object.keys(policy.databases).length} database(s))`);
  } catch (err) {
    add('policy', false, msg(err));
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
        add('keychain', false, msg(err));
      }
    }
    for (const db of dbs) {
      const ref = adminRefOfDb(db);
      try {
        await adminSecret(ref, deps);
        add(`${db.name}: admin credential`, true, describeSource(db.admin.password));
      } catch (err) {
        add(`${db.name}: admin credential`, false, msg(err));
        continue;
      }
      try {
        const memberOf = [...new Set(Object.values(db.roles).flatMap((r) => r.memberOf))];
        const [problems, noExpiry, powers] = await withAdmin(ref, deps, async ({ session }) => [
          await adminProblems(session, db),
          session.loginsWithoutExpiry ? await session.loginsWithoutExpiry(db.database, memberOf).catch(() => null) : undefined,
          (await session.privilegeWarnings?.()) ?? [],
        ] as const);
        add(`${db.name}: admin login`, problems.length === 0, problems.length ? problems.join('; ') : `${db.admin.user}@${db.host}:${db.port}/${db.database} can grant every role, and revoke`);
        for (const p of powers) warn(`${db.name}: admin login`, p);
        // VALID UNTIL is a password expiry: trust, cert, peer or ident lines let a login in past it.
        if (noExpiry === null) add(`${db.name}: pg_hba.conf`, true, `cannot read pg_hba_file_rules as ${db.admin.user} (superuser only), so cannot tell whether a trust, cert, peer or ident line lets minted logins in past their expiry`);
        else if (noExpiry && noExpiry.length > 0) warn(`${db.name}: pg_hba.conf`, `minted logins could log in past their expiry (VALID UNTIL only applies to password methods) through ${noExpiry.join('; ')}`);
        else if (noExpiry) add(`${db.name}: pg_hba.conf`, true, 'every line that could match minted logins checks their password, so VALID UNTIL applies');
      } catch (err) {
        add(`${db.name}: admin login`, false, msg(err));
      }
      const engine = await deps.engine(db.engine).catch(() => null);
      if (engine) {
        const client = engine.profile.client.binaries.map((b) => which(b, deps.env)).find(Boolean) ?? null;
        add(`${db.name}: client`, Boolean(client), client ?? `${engine.profile.client.binaries.join(' or ')} not on PATH (needed by jit connect only)`)
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
  if (!deps.startReaper) add('reaper', true, `turned off (JIT_NO_REAPER=1): expiry relies on VALID UNTIL and \`jit reap\`; ${leases.length} local lease(s)`);
  else add('reaper', leases.length === 0 || reaper.startsWith('running'), `${reaper}; ${leases.length} local lease(s)`);
  const st = await stat(deps.stateDir).catch(() => null);
  add('state directory', !st || (st.mode & 0o077) === 0, st ? `${deps.stateDir} (mode ${(st.mode & 0o777).toString(8)})` : `${deps.stateDir} (not created yet)`);

  if (deps.io.json) printJson(deps.io, checks);
  else printData(deps.io, checks.map((c) => `${c.warning ? 'warn' : c.ok ? 'ok  ' : 'FAIL'}  ${c.name}: ${c.detail}`).join('\n'));
  return checks.every((c) => c.ok) ? 0 : 1;
}
