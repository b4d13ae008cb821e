import type { Deps } from '../deps.js';
import { runtimeError } from '../../core/errors.js';
import { withAdmin } from '../../lifecycle/admin-access.js';
import { adminProblems, adminRefOfDb, selectDatabases } from '../../lifecycle/server-logins.js';
import { describeSource } from '../../secrets/admin-secret.js';
import { printData, printJson, problem } from '../output.js';

/** `jit admin test DB`: log in as the admin and check it can mint and revoke. */
export async function run([database]: [string], _flags: unknown, deps: Deps): Promise<number> {
  const [db] = selectDatabases(await deps.policy(), database);
  const [problems, warnings] = await withAdmin(adminRefOfDb(db!), deps, async ({ session }) => [
    await adminProblems(session, db!),
    (await session.privilegeWarnings?.()) ?? [],
  ] as const);
  const where = `${db!.admin.user}@${db!.host}:${db!.port}/${db!.database}`;
  // More power than jit needs is worth knowing, but no failure.
  for (const w of warnings) problem(deps.io, `warning: ${w}`);
  if (deps.io.json) printJson(deps.io, { database, admin: where, source: describeSource(db!.admin.password), ok: problems.length === 0, problems, warnings });
  else if (problems.length === 0) printData(deps.io, `ok: logged in as ${where} (password from ${describeSource(db!.admin.password)}); it can grant every role in the policy, and revoke`);
  if (problems.length > 0) {
    if (!deps.io.json) throw runtimeError(`logged in as ${where}, but: ${problems.join('; ')}`, 'grant the admin what is missing (see README, "The admin credential")');
    return 1;
  }
  return 0;
}
