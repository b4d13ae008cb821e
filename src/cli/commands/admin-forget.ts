import type { Deps } from '../deps.js';
import { notice } from '../output.js';

/** `jit admin forget DB`: delete the stored admin password. */
export async function run([database]: [string], _flags: unknown, deps: Deps): Promise<number> {
  const keychain = await deps.keychain();
  const deleted = await keychain.delete(database);
  notice(deps.io, deleted ? `deleted the admin password for ${database} from the ${keychain.backend}` : `no admin password for ${database} in the ${keychain.backend}; nothing to delete`);
  return 0;
}
