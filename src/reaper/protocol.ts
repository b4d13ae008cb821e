import { tmpdir } from 'node:os';
import { closeSync, constants, fstatSync, lstatSync, mkdirSync, mkdtempSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { statePaths } from '../leases/paths.js';
import { crypto } from '../core/builtins.js';

/** Messages on the reaper's unix socket: one JSON object per line. */
export type ReaperRequest =
  | { type: 'hello' }
  /** A new or changed lease, with the admin credential the reaper keeps in memory only. */
  | { type: 'lease'; id: string; key: string; secret?: string }
  | { type: 'stop' };

/**
 * `keys`: the credentials the reaper holds (credentialKey), never the secrets themselves.
 * `wants`: a lease of each credential it lacks (a restart, a rotated password it dropped), so a
 * command that can read one hands it over without reading every lease file itself.
 */
export type ReaperReply = { ok: true; pid: number; keys?: string[]; wants?: Array<{ id: string; key: string }> } | { ok: false; error: string };

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
 * When another user squatted `/tmp/jit-<uid>`, a fresh mkdtemp directory is used instead and its
 * name recorded in `$JIT_HOME/reaper-socket-dir`, so every jit process of this state directory
 * finds it.
 */
export function reaperSocketPath(root: string): string {
  const p = statePaths(root).reaperSocket;
  if (Buffer.byteLength(p) <= MAX_SOCKET_PATH) return p;
  const digest = crypto().createHash('sha256').update(root).digest('hex').slice(0, 16);
  const name = `jit-${digest}.sock`;
  const recorded = recordedSocketDir(root);
  if (recorded && privateDirProblem(recorded) === null) return join(recorded, name);
  const base = process.platform === 'win32' ? tmpdir() : '/tmp';
  const dir = join(base, `jit-${uid()}`);
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  if (privateDirProblem(dir) === null) return join(dir, name);
  // Squatted: an unpredictable directory nobody else can have created.
  const fresh = mkdtempSync(join(base, 'jit-'));
  recordSocketDir(root, fresh);
  return join(fresh, name);
}

const SOCKET_DIR_RECORD = 'reaper-socket-dir';

function recordedSocketDir(root: string): string | null {
  try {
    const fd = openSync(join(root, SOCKET_DIR_RECORD), constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
    try {
      const st = fstatSync(fd);
      if (uid() >= 0 && (st.uid !== uid() || (st.mode & 0o022) !== 0)) return null;
      const dir = readFileSync(fd, 'utf8').trim();
      return dir.startsWith('/') ? dir : null;
    } finally {
      closeSync(fd);
    }
  } catch {
    return null;
  }
}

function recordSocketDir(root: string, dir: string): void {
  mkdirSync(root, { recursive: true, mode: 0o700 });
  const tmp = join(root, `.${crypto().randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0), 0o600);
  try {
    writeSync(fd, `${dir}\n`);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, join(root, SOCKET_DIR_RECORD));
}

/** Null when `dir` is a real directory of this user that nobody else can read or write. */
function privateDirProblem(dir: string): string | null {
  const st = lstatSync(dir, { throwIfNoEntry: false });
  if (!st) return 'missing';
  if (!st.isDirectory()) return 'not a directory';
  if (uid() >= 0 && st.uid !== uid()) return `owned by uid ${st.uid}`;
  if ((st.mode & 0o077) !== 0) return `mode ${(st.mode & 0o777).toString(8)}`;
  return null;
}

/** Create (0700) or check the directory holding the socket: ours, a real directory, private. */
export function ensurePrivateSocketDir(socketPath: string): void {
  const dir = dirname(socketPath);
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const problem = privateDirProblem(dir);
  if (problem) throw new Error(`refusing to use ${dir} for the reaper socket: not a private directory of this user (${problem})`);
}

/** Before sending a credential: the socket must be one this user created. */
export function assertOwnSocket(socketPath: string): void {
  const st = lstatSync(socketPath);
  if (!st.isSocket() || (uid() >= 0 && st.uid !== uid())) {
    throw new Error(`refusing to talk to ${socketPath}: not a socket owned by this user`);
  }
}
