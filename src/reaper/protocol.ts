import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { lstatSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { statePaths } from '../leases/paths.js';

/** Messages on the reaper's unix socket: one JSON object per line. */
export type ReaperRequest =
  | { type: 'hello' }
  /** A new or changed lease, with the admin credential the reaper keeps in memory only. */
  | { type: 'lease'; id: string; key: string; secret?: string }
  | { type: 'stop' };

/** `keys`: the credentials the reaper holds (credentialKey), never the secrets themselves. */
export type ReaperReply = { ok: true; pid: number; keys?: string[] } | { ok: false; error: string };

/** Key under which the reaper keeps a credential: one per (policy database, admin source). */
export function credentialKey(database: string, adminSource: string): string {
  return `${database}\u0000${adminSource}`;
}

// sun_path holds 108 bytes on Linux and 104 on macOS; a deep $JIT_HOME would not fit.
const MAX_SOCKET_PATH = 100;

const uid = () => (typeof process.getuid === 'function' ? process.getuid() : -1);

/**
 * The socket lives in $JIT_HOME (0700, ours). When that path is too long for a unix socket it
 * goes to a private 0700 `/tmp/jit-<uid>` directory, which ensurePrivateSocketDir() creates and
 * checks — never a predictable name in a shared directory, where another user could listen for
 * credentials. The path depends on the state directory alone (not on $TMPDIR or
 * $XDG_RUNTIME_DIR), so a cron job and a login shell find the same reaper.
 */
export function reaperSocketPath(root: string): string {
  const p = statePaths(root).reaperSocket;
  if (Buffer.byteLength(p) <= MAX_SOCKET_PATH) return p;
  const digest = createHash('sha256').update(root).digest('hex').slice(0, 16);
  const base = process.platform === 'win32' ? tmpdir() : '/tmp';
  return join(base, `jit-${uid()}`, `jit-${digest}.sock`);
}

/** Create (0700) or check the directory holding the socket: ours, a real directory, private. */
export function ensurePrivateSocketDir(socketPath: string): void {
  const dir = dirname(socketPath);
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const st = lstatSync(dir);
  if (!st.isDirectory() || (uid() >= 0 && st.uid !== uid()) || (st.mode & 0o077) !== 0) {
    throw new Error(`refusing to use ${dir} for the reaper socket: not a private directory of this user`);
  }
}

/** Before sending a credential: the socket must be one this user created. */
export function assertOwnSocket(socketPath: string): void {
  const st = lstatSync(socketPath);
  if (!st.isSocket() || (uid() >= 0 && st.uid !== uid())) {
    throw new Error(`refusing to talk to ${socketPath}: not a socket owned by this user`);
  }
}
