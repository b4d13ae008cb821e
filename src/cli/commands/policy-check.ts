import { join, resolve } from 'node:path';
import type { Deps } from '../deps.js';
import type { Policy } from '../../policy/types.js';
import { usageError } from '../../core/errors.js';
import { printJson, printData } from '../output.js';

/** `jit policy check [FILE]`: validate without connecting to anything. */
export async function run([file]: [string | undefined], _flags: unknown, deps: Deps): Promise<number> {
  let policy: Policy;
  if (file) {
    const path = resolve(deps.cwd, file);
    const { readBounded } = await import('../../policy/load.js');
    const text = await readBounded(path, file).catch((e: unknown) => {
      if (e instanceof Error && 'exitCode' in e) throw e;
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EISDIR') throw usageError(`${path} is a directory, not a policy file`, `pass the file inside it, e.g. jit policy check ${join(file, 'jit.yaml')}`);
      if (code !== 'ENOENT') throw usageError(`cannot read policy file ${path}: ${code ?? String(e)}`, 'check its permissions');
      throw usageError(`policy file ${path} does not exist`, "create one with 'jit init'");
    });
    const { parsePolicy } = await import('../../policy/parse.js');
    policy = parsePolicy(text, path, file);
  } else {
    policy = await deps.policy();
  }
  const dbs = Object.values(policy.databases);
  const roles = dbs.reduce((n, d) => n + Object.keys(d.roles).length, 0);
  if (deps.io.json) printJson(deps.io, { file: policy.file, ok: true, databases: dbs.map((d) => ({ name: d.name, engine: d.engine, roles: Object.keys(d.roles) })) });
  else printData(deps.io, `${policy.file}: ok (${dbs.length} database(s), ${roles} role(s))`);
  return 0;
}
