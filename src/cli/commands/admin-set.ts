import type { Deps } from '../deps.js';
import { canPrompt } from '../io.js';
import { usageError } from '../../core/errors.js';
import { registerSecret } from '../../core/redact.js';
import { readSecretFromStdin } from '../../secrets/read-secret.js';
import { notice } from '../output.js';

/** `jit admin set DB [--password-stdin]`: store the admin password in the OS keychain (service jit, account DB). */
export async function run([database]: [string], flags: { passwordStdin?: boolean }, deps: Deps): Promise<number> {
  const policy = await deps.policy().catch(() => null);
  const db = policy?.databases[database];
  if (policy && !db) throw usageError(`database "${database}" is not in ${policy.file}`, `known: ${Object.keys(policy.databases).join(', ')}`);
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
  await keychain.set(database, secret);
  notice(deps.io, `stored the admin password for ${database} in the ${keychain.backend} (service jit, account ${database})`);
  if (db && db.admin.password !== 'keychain') {
    notice(deps.io, `note: the policy reads this database's admin password from ${db.admin.password}, not the keychain`);
  }
  return 0;
}
