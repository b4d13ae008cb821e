import type { Deps } from '../deps.js';
import { canPrompt } from '../io.js';
import { isServerError, runtimeError, usageError } from '../../core/errors.js';
import { openAdmin } from '../../lifecycle/admin-access.js';
import { adminRefOfDb } from '../../lifecycle/server-logins.js';
import { registerSecret } from '../../core/redact.js';
import { readSecretFromStdin } from '../../secrets/read-secret.js';
import { notice } from '../output.js';

/**
 * `jit admin set DB [--password-stdin] [--no-verify]`: log in with the password as the policy's
 * admin, then store it in the OS keychain (service jit, account DB). A password the server
 * refuses is not stored; nor is one for a database whose policy reads it from elsewhere.
 */
export async function run([database]: [string], flags: { passwordStdin?: boolean; verify?: boolean }, deps: Deps): Promise<number> {
  const policy = await deps.policy().catch(() => null);
  const db = policy?.databases[database];
  if (policy && !db) throw usageError(`database "${database}" is not in ${policy.file}`, `known: ${Object.keys(policy.databases).join(', ')}`);
  if (db && db.admin.password !== 'keychain') {
    throw usageError(
      `the policy reads the admin password of ${database} from ${db.admin.password}, not the keychain; nothing stored`,
      `set admin.password: keychain for ${database} in ${policy!.file} to use the keychain`,
    );
  }
  // Find out the keychain is unreachable before asking for a password it cannot store.
  const keychain = await deps.keychain();
  await keychain.get(database);
  let secret: string;
  if (flags.passwordStdin) secret = await readSecretFromStdin(deps.io.stdin);
  else if (canPrompt(deps.io)) {
    const who = db ? ` (${db.admin.user}@${db.host}:${db.port})` : '';
    secret = await (await deps.prompter()).password(`Admin password for ${database}${who}`);
    if (!secret) throw usageError('empty password; nothing stored', 'type the password, or pipe it with --password-stdin');
  } else throw usageError('no terminal to ask for the password', `pipe it: printf %s "$PW" | jit admin set ${database} --password-stdin`);
  registerSecret(secret);
  if (db && flags.verify !== false) {
    const who = `${db.admin.user}@${db.host}:${db.port}`;
    try {
      const opened = await openAdmin(adminRefOfDb(db), deps, secret);
      await opened.session.close().catch(() => {});
    } catch (err) {
      if (isServerError(err, 'admin-auth')) {
        throw runtimeError(`the server refused this password for ${who}; nothing stored`, `check it and run 'jit admin set ${database}' again`, err);
      }
      const why = err instanceof Error ? err.message : String(err);
      throw runtimeError(`could not check the password against ${who} (${why}); nothing stored`, `store it unchecked with 'jit admin set ${database} --no-verify'`, err);
    }
  }
  await keychain.set(database, secret);
  const checked = db && flags.verify !== false ? `, after logging in as ${db.admin.user} with it` : db ? ' (not checked: --no-verify)' : ' (not checked: no policy names it)';
  notice(deps.io, `stored the admin password for ${database} in the ${keychain.backend} (service jit, account ${database})${checked}`);
  return 0;
}
