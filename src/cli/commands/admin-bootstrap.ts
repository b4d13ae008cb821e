import type { Deps } from '../deps.js';
import type { BootstrapReport, BootstrapStep } from '../../engines/bootstrap.js';
import type { DatabaseConfig } from '../../policy/types.js';
import { canPrompt } from '../io.js';
import { runtimeError, usageError } from '../../core/errors.js';
import { registerSecret } from '../../core/redact.js';
import { escapeControl } from '../../core/terminal-text.js';
import { generatePassword } from '../../core/random.js';
import { targetFromConfig } from '../../engines/engine.js';
import { withAdmin } from '../../lifecycle/admin-access.js';
import { adminProblems, adminRefOfDb, selectDatabases } from '../../lifecycle/server-logins.js';
import { resolveAdminSecret } from '../../secrets/admin-secret.js';
import { notice, printData, printJson, problem } from '../output.js';

interface BootstrapFlags {
  apply?: boolean;
  dbaUser?: string;
  dbaPassword?: string;
}

/**
 * `jit admin bootstrap DB [--apply [--dba-user NAME] [--dba-password SOURCE]]`: the SQL for a
 * dedicated admin holding exactly what the policy needs. Printed by default; with --apply run
 * once as a DBA whose password is read from SOURCE (env:NAME, command:CMD) or asked for, and
 * never stored. Run again after the policy changes: it adds what is missing and lists what the
 * admin holds that no role needs any more.
 */
export async function run([database]: [string], flags: BootstrapFlags, deps: Deps): Promise<number> {
  const policy = await deps.policy();
  const [db] = selectDatabases(policy, database);
  const engine = await deps.engine(db!.engine);
  if (!engine.bootstrap) throw usageError(`jit cannot bootstrap an admin on ${db!.engine}`, 'write the admin SQL by hand (README, "The admin credential")');
  if (!flags.apply) {
    if (flags.dbaUser || flags.dbaPassword) throw usageError('--dba-user and --dba-password go with --apply', `jit admin bootstrap ${database} --apply --dba-user NAME`);
    const steps = engine.bootstrap.plan(db!);
    if (deps.io.json) printJson(deps.io, { database, admin: db!.admin.user, statements: steps });
    else printData(deps.io, printedPlan(db!, policy.file, steps, engine.bootstrap.defaultDba));
    return 0;
  }
  // A superuser's password goes only to a server whose certificate is checked, or one on this
  // machine: `tls: require` alone lets an impostor in the middle take it.
  const local = db!.host.startsWith('/') || ['127.0.0.1', '::1', 'localhost'].includes(db!.host);
  if (!local && db!.tls !== 'verify-full' && !db!.tlsCa) {
    throw usageError(
      `--apply would send the DBA's password to ${db!.host}:${db!.port} without checking the server's certificate (tls: ${db!.tls}${db!.tlsCa ? '' : ', no tls_ca'})`,
      `set tls: verify-full (with tls_ca for a private CA) for ${database} in the policy, or run the printed SQL yourself: jit admin bootstrap ${database}`,
    );
  }
  const dbaUser = flags.dbaUser ?? engine.bootstrap.defaultDba;
  if (dbaUser === db!.admin.user) throw usageError(`the DBA and the admin are both ${dbaUser}`, 'bootstrap with a superuser account (--dba-user), not the admin it creates');
  const dbaPassword = await readDbaPassword(db!, dbaUser, flags.dbaPassword, deps);

  // The new admin's password: from the policy's source; for the keychain, a fresh random one
  // when none is stored, stored once the admin exists.
  // Stored before the admin is created: a run that fails half-way leaves it for the next one.
  let toStore: string | undefined;
  const adminPassword = async () => {
    if (db!.admin.password === 'keychain') {
      const keychain = await deps.keychain();
      const stored = await keychain.get(db!.name);
      if (stored) return stored;
      toStore = generatePassword();
      registerSecret(toStore);
      await keychain.set(db!.name, toStore);
      return toStore;
    }
    return resolveAdminSecret(db!.admin.password, db!.name, { env: deps.env, keychain: deps.keychain });
  };
  const report = await engine.bootstrap.apply(targetFromConfig(db!), { user: dbaUser, password: dbaPassword }, db!, adminPassword);

  // Then the check `jit admin test` makes, as the admin itself.
  const problems = await withAdmin(adminRefOfDb(db!), deps, ({ session }) => adminProblems(session, db!));
  if (deps.io.json) {
    printJson(deps.io, { database, admin: db!.admin.user, server: report.server, created: report.created, passwordStored: Boolean(toStore), added: report.added, present: report.present, unneeded: report.unneeded, problems });
  } else {
    printData(deps.io, appliedReport(db!, dbaUser, report));
    if (toStore) notice(deps.io, `stored ${db!.admin.user}'s new password in the OS keychain (service jit, account ${db!.name})`);
  }
  if (problems.length) {
    if (!deps.io.json) for (const p of problems) problem(deps.io, `problem: ${escapeControl(p)}`);
    throw runtimeError(`${db!.admin.user} still lacks ${problems.length} thing(s) jit needs`, `see the lines above; then: jit admin test ${database}`);
  }
  if (!deps.io.json) printData(deps.io, `ok: logged in as ${db!.admin.user}; it can grant every role in the policy, and revoke`);
  return 0;
}

/** The DBA's password: from --dba-password SOURCE, else asked for on a terminal. Never stored. */
async function readDbaPassword(db: DatabaseConfig, user: string, source: string | undefined, deps: Deps): Promise<string> {
  if (source !== undefined) {
    if (!/^(env|command):./.test(source.trim())) {
      throw usageError(`--dba-password ${JSON.stringify(source.startsWith('env:') || source.startsWith('command:') ? source : '…')} is not env:NAME or command:CMD`, 'pass env:NAME or command:CMD (a password on the command line would show in ps)');
    }
    return resolveAdminSecret(source.trim(), db.name, { env: deps.env, keychain: deps.keychain });
  }
  if (!canPrompt(deps.io)) throw usageError('no terminal to ask for the DBA password', `pass --dba-password env:NAME or --dba-password command:CMD`);
  const pw = await (await deps.prompter()).password(`Password of ${user}@${db.host}:${db.port} (used once, not stored)`);
  if (!pw) throw usageError('empty password; nothing was changed', 'type the password, or pass --dba-password env:NAME');
  registerSecret(pw);
  return pw;
}

// The server's own strings (its version, pg_cron's database) are in here too: escaped.
const line = (s: BootstrapStep) => escapeControl(`${s.sql};  -- ${s.why}`);

function printedPlan(db: DatabaseConfig, file: string, steps: BootstrapStep[], dba: string): string {
  const t = (s: string) => escapeControl(s);
  const out = [
    `-- The jit admin ${t(db.admin.user)} for ${t(db.name)} (${t(db.database)} on ${t(db.host)}:${db.port}), from ${t(file)}.`,
    `-- Run as ${dba} or another superuser (managed services: see README), or let jit run it: jit admin bootstrap ${t(db.name)} --apply`,
    ...steps.filter((s) => !s.conditional).map(line),
  ];
  for (const s of steps.filter((s) => s.conditional)) out.push(`-- ${s.conditional}:`, `-- ${line(s)}`);
  return out.join('\n');
}

function appliedReport(db: DatabaseConfig, dba: string, r: BootstrapReport): string {
  const out = [`${escapeControl(r.server)} at ${escapeControl(db.host)}:${db.port}, as ${escapeControl(dba)}:`];
  for (const s of r.added) out.push(`added    ${line(s)}`);
  for (const s of r.present) out.push(`present  ${line(s)}`);
  // Table and role names here are the server's, written by anyone who could create one.
  for (const u of r.unneeded) out.push(`unneeded ${escapeControl(u.what)}; no role needs it; to remove: ${escapeControl(u.revoke)};`);
  if (r.added.length === 0) out.push('nothing to add');
  return out.join('\n');
}
