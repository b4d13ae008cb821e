import { stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { Policy } from './types.js';
import { ensurePrivateDir, readPrivateFile, writeFileAtomic } from '../core/fs-secure.js';

/**
 * Validated policies, cached in $JIT_HOME keyed on the file's path and exact text and on this
 * build of jit, so a command does not load the YAML parser and validator when nothing changed
 * (they are most of `jit uri`'s start-up). Any change to the file or to jit misses the cache.
 */
const CACHE_FILE = 'policy-cache.json';

let codeId: Promise<string> | undefined;
function buildId(): Promise<string> {
  const self = fileURLToPath(import.meta.url);
  return (codeId ??= stat(self).then(
    (st) => `${self}\u0000${st.mtimeMs}\u0000${st.size}`,
    () => self,
  ));
}

/**
 * The key is the build, the path and the whole text, compared as they are: a policy is at most
 * 1 MiB, and no hash means no node:crypto to load, ~2 ms of a Tab press (`jit __complete`).
 */
async function keyOf(path: string, text: string): Promise<string> {
  return `${await buildId()}\u0000${path}\u0000${text}`;
}

/** Databases and roles are looked up by user-typed names: keep them free of Object.prototype. */
function revive(policy: Policy): Policy {
  const databases = Object.create(null) as Policy['databases'];
  for (const [name, db] of Object.entries(policy.databases)) {
    databases[name] = { ...db, roles: Object.assign(Object.create(null), db.roles) };
  }
  return { ...policy, databases };
}

export async function readCachedPolicy(dir: string, path: string, text: string): Promise<Policy | null> {
  try {
    const entry = JSON.parse(await readPrivateFile(join(dir, CACHE_FILE))) as { key: string; policy: Policy };
    return entry.key === (await keyOf(path, text)) ? revive(entry.policy) : null;
  } catch {
    return null;
  }
}

export async function writeCachedPolicy(dir: string, path: string, text: string, policy: Policy): Promise<void> {
  try {
    await ensurePrivateDir(dir);
    // Not flushed to disk: a cache lost in a power cut is only rebuilt from the policy file.
    await writeFileAtomic(join(dir, CACHE_FILE), JSON.stringify({ key: await keyOf(path, text), policy }), false);
  } catch {
    // a cache that cannot be written only costs time
  }
}
