import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Deps } from '../deps.js';
import { usageError } from '../../core/errors.js';
import { starterPolicy } from '../../policy/starter.js';
import { notice } from '../output.js';

/** `jit init [FILE]`: write the annotated starter policy (default ./jit.yaml). */
export async function run([file]: [string | undefined], flags: { force?: boolean }, deps: Deps): Promise<number> {
  const path = resolve(deps.cwd, file ?? 'jit.yaml');
  try {
    await writeFile(path, starterPolicy(), { flag: flags.force ? 'w' : 'wx', mode: 0o644 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw usageError(`${path} already exists`, 'pass --force to overwrite it, or name another file');
    throw err;
  }
  notice(deps.io, `wrote ${path}\nnext: edit it, then store the admin password with: jit admin set prod-db`);
  return 0;
}
