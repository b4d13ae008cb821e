import { existsSync, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';
import { homedir } from 'node:os';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { usageError } from '../core/errors.js';
import type { Policy } from './types.js';
import { readCachedPolicy, writeCachedPolicy } from './cache.js';

export interface PolicyLocation {
  /** `--policy FILE`, if given. */
  flag?: string;
  env: NodeJS.ProcessEnv;
  /** Relative paths (flag, $JIT_POLICY) are resolved against this, and ./jit.yaml is looked for here. */
  cwd: string;
  /** Where validated policies are cached ($JIT_HOME); no cache when absent. */
  cacheDir?: string;
}

const CREATE_HINT = "create one with 'jit init' or pass --policy FILE";

/**
 * Where the policy is (DESIGN §1): `--policy FILE`, else `$JIT_POLICY`, else `./jit.yaml` if it
 * exists, else `$XDG_CONFIG_HOME/jit/policy.yaml`. `explicit` is true when the user named the file.
 */
export function policyPath(opts: PolicyLocation): { path: string; explicit: boolean } {
  if (opts.flag) return { path: resolve(opts.cwd, opts.flag), explicit: true };
  if (opts.env.JIT_POLICY) return { path: resolve(opts.cwd, opts.env.JIT_POLICY), explicit: true };
  const local = join(opts.cwd, 'jit.yaml');
  if (existsSync(local)) return { path: resolve(local), explicit: false };
  return { path: join(configHome(opts.env), 'jit', 'policy.yaml'), explicit: false };
}

// The XDG spec says a relative XDG_CONFIG_HOME is invalid and must be ignored.
function configHome(env: NodeJS.ProcessEnv): string {
  const xdg = env.XDG_CONFIG_HOME;
  if (xdg && isAbsolute(xdg)) return xdg;
  return join(env.HOME || homedir(), '.config');
}

/** Find, read and validate the policy; every failure is a usage error (exit 2). */
export async function loadPolicy(opts: PolicyLocation): Promise<Policy> {
  const { path, explicit } = policyPath(opts);
  let text: string;
  try {
    const local = !explicit && path === resolve(opts.cwd, 'jit.yaml');
    text = await readBounded(path, displayPath(path, opts.cwd), local);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && explicit) {
      const from = opts.flag ? '' : ' (from $JIT_POLICY)';
      throw usageError(`policy file ${path}${from} does not exist`, CREATE_HINT);
    }
    if (code === 'ENOENT') {
      throw usageError(`no policy file found (looked for ${join(opts.cwd, 'jit.yaml')} and ${path})`, CREATE_HINT);
    }
    if (e instanceof Error && 'exitCode' in e) throw e;
    if (code === 'EISDIR') throw usageError(`policy file ${path} is a directory`, 'pass --policy FILE');
    throw usageError(`cannot read policy file ${path}: ${code ?? String(e)}`, 'check its permissions or pass --policy FILE');
  }
  if (opts.cacheDir) {
    const cached = await readCachedPolicy(opts.cacheDir, path, text);
    if (cached) return cached;
  }
  // Loaded only when the policy is not in the cache: the YAML parser is the largest module jit has.
  const { parsePolicy } = await import('./parse.js');
  const policy = parsePolicy(text, path, displayPath(path, opts.cwd));
  if (opts.cacheDir) await writeCachedPolicy(opts.cacheDir, path, text, policy);
  return policy;
}


/** Size limit of a policy file; the validator checks it again for text from elsewhere. */
const MAX_POLICY_BYTES = 1024 * 1024;

/**
 * Read at most MAX_POLICY_BYTES (+1 to notice more): a 10 MB policy once kept the validator busy
 * for minutes, and `--policy /dev/zero` would never end a plain readFile.
 */
export async function readBounded(path: string, display: string, foundInCwd = false): Promise<string> {
  const fh = await open(path, 'r');
  try {
    if (foundInCwd) {
      const why = notOwn(await fh.stat());
      if (why) throw usageError(`refusing to use the policy jit.yaml in the working directory: ${why}`, `if you trust it, pass --policy ${path}`);
    }
    const buf = Buffer.alloc(MAX_POLICY_BYTES + 1);
    let n = 0;
    while (n < buf.length) {
      const { bytesRead } = await fh.read(buf, n, buf.length - n, null);
      if (bytesRead === 0) break;
      n += bytesRead;
    }
    if (n > MAX_POLICY_BYTES) {
      throw usageError(`${display}: the policy is larger than ${MAX_POLICY_BYTES} bytes (1 MiB), the most accepted`, 'a policy this large is not one a person wrote; check the file');
    }
    return buf.subarray(0, n).toString('utf8');
  } finally {
    await fh.close();
  }
}

/**
 * A ./jit.yaml is picked up just by running jit in its directory: one someone else planted (a
 * shared or cloned directory) could name a command: admin source, or its own host with
 * admin.auth: password and the user's keychain account. Only the user's own (or root's) is used
 * unasked.
 */
function notOwn(st: Stats): string | null {
  const me = typeof process.geteuid === 'function' ? process.geteuid() : -1;
  if (me < 0) return null;
  if (st.uid !== me && st.uid !== 0) return `owned by uid ${st.uid}, not by you (uid ${me})`;
  if ((st.mode & 0o022) !== 0) return `writable by group or others (mode ${(st.mode & 0o777).toString(8).padStart(4, '0')})`;
  return null;
}

/** Errors name a file under the working directory relatively, like compilers do (`jit.yaml:12:9`). */
function displayPath(path: string, cwd: string): string {
  const rel = relative(cwd, path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}
