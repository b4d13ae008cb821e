import { mkdir, chmod, link, lstat, open, realpath, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { constants, type Stats } from 'node:fs';
import { dirname, join } from 'node:path';
import { JitError } from './errors.js';
import { crypto } from './builtins.js';

const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_APPEND, O_NOFOLLOW } = constants;
/** Windows has no O_NOFOLLOW (and no uid): the checks below are POSIX-only. */
const NOFOLLOW = O_NOFOLLOW ?? 0;
const euid = (): number => (typeof process.geteuid === 'function' ? process.geteuid() : -1);

/** Why jit will not trust this path, or null: ours, not writable by group or others. */
function untrusted(st: Stats): string | null {
  const me = euid();
  if (me >= 0 && st.uid !== me) return `owned by uid ${st.uid}, not by you (uid ${me})`;
  if (me >= 0 && (st.mode & 0o022) !== 0) return `writable by group or others (mode ${(st.mode & 0o777).toString(8).padStart(4, '0')})`;
  return null;
}

function refuse(path: string, what: string, hint: string): JitError {
  return new JitError(`refusing to use ${path}: ${what}`, { hint });
}

const dirHint = (dir: string) => `make it yours and private (chown $(id -u) ${dir} && chmod 700 ${dir}) or set JIT_HOME to a directory of your own`;
const fileHint = (file: string) => `remove ${file} if you did not create it, or fix it with chown $(id -u) ${file} && chmod 600 ${file}`;

const egid = (): number => (typeof process.getegid === 'function' ? process.getegid() : -1);
const checkedAncestors = new Set<string>();

/**
 * Why a directory above jit's own is unsafe, or null. Whoever may rename entries in an ancestor
 * can swap the state directory for their own between jit's check and its use: every ancestor
 * must belong to root or to you, and be writable by no one else, unless its sticky bit keeps
 * others from renaming what they do not own (/tmp). Group write is allowed only for your own
 * primary group (the user-private-group layout).
 */
function unsafeAncestor(st: Stats): string | null {
  const me = euid();
  if (me < 0) return null;
  if (st.uid !== 0 && st.uid !== me) return `owned by uid ${st.uid}, not by you or root`;
  if ((st.mode & 0o1000) !== 0) return null;
  if ((st.mode & 0o002) !== 0) return `writable by others without the sticky bit (mode ${(st.mode & 0o7777).toString(8).padStart(4, '0')})`;
  if ((st.mode & 0o020) !== 0 && st.gid !== egid()) return `writable by group ${st.gid} (mode ${(st.mode & 0o7777).toString(8).padStart(4, '0')})`;
  return null;
}

/** Refuse `dir` when a directory above it (symlinks resolved) lets someone else replace it. */
async function checkAncestors(dir: string): Promise<void> {
  let parent = await realpath(dirname(dir)).catch(() => null);
  if (parent === null || checkedAncestors.has(parent)) return;
  const start = parent;
  for (;;) {
    const why = unsafeAncestor(await stat(parent));
    if (why) {
      throw refuse(dir, `${parent} above it is ${why}`, `use a JIT_HOME whose parent directories only you (or root) can change, e.g. the default ~/.local/state/jit`);
    }
    const up = dirname(parent);
    if (up === parent) break;
    parent = up;
  }
  checkedAncestors.add(start);
}

/**
 * Create a directory readable by its owner only (0700), tightening it when it already exists.
 * A directory that is a symlink, another user's, or writable by group/others is refused: whoever
 * controls it could plant leases or redirect the files jit writes there.
 */
export async function ensurePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await checkAncestors(dir);
  const st = await lstat(dir);
  if (st.isSymbolicLink()) throw refuse(dir, 'it is a symbolic link', dirHint(dir));
  if (!st.isDirectory()) throw refuse(dir, 'not a directory', dirHint(dir));
  const why = untrusted(st);
  if (why) throw refuse(dir, why, dirHint(dir));
  if ((st.mode & 0o077) !== 0) await chmod(dir, 0o700);
}

/** Like ensurePrivateDir() but creates nothing: a missing directory is fine, an untrusted one is refused. */
export async function checkPrivateDir(dir: string): Promise<void> {
  const st = await lstat(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw err;
  });
  if (!st) return;
  await checkAncestors(dir);
  if (st.isSymbolicLink()) throw refuse(dir, 'it is a symbolic link', dirHint(dir));
  if (!st.isDirectory()) throw refuse(dir, 'not a directory', dirHint(dir));
  const why = untrusted(st);
  if (why) throw refuse(dir, why, dirHint(dir));
}

/** Open without following a symlink, then check on the open descriptor who owns the file. */
async function openOwn(file: string, flags: number, mode?: number): Promise<FileHandle> {
  let fh: FileHandle;
  try {
    fh = await open(file, flags | NOFOLLOW, mode);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOOP') throw refuse(file, 'it is a symbolic link', fileHint(file));
    throw err;
  }
  const why = untrusted(await fh.stat());
  if (why) {
    await fh.close();
    throw refuse(file, why, fileHint(file));
  }
  return fh;
}

/** Read a state file: never through a symlink, only when it is the user's own. */
export async function readPrivateFile(file: string): Promise<string> {
  const fh = await openOwn(file, O_RDONLY);
  try {
    return await fh.readFile('utf8');
  } finally {
    await fh.close();
  }
}

/** The name writeFileAtomic() gives its temp files: `.<hex>.tmp` beside the target. */
export const TEMP_FILE = /^\.[0-9a-f]+\.tmp$/;

/**
 * Write a 0600 file atomically: temp file in the same directory, rename. With `durable`, the data
 * is flushed to disk before the rename, so it survives a power loss too.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array, durable = true): Promise<void> {
  const tmp = join(dirname(file), `.${crypto().randomBytes(6).toString('hex')}.tmp`);
  try {
    // O_EXCL|O_NOFOLLOW: a name planted in advance (file or symlink) fails instead of being written through.
    const fh = await open(tmp, O_WRONLY | O_CREAT | O_EXCL | NOFOLLOW, 0o600);
    try {
      await fh.writeFile(data);
      if (durable) await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
}

/** Append one line to a 0600 file (O_APPEND keeps concurrent writers' lines whole). */
export async function appendLine(file: string, line: string): Promise<void> {
  const fh = await openOwn(file, O_WRONLY | O_APPEND | O_CREAT, 0o600);
  try {
    await fh.writeFile(line.endsWith('\n') ? line : `${line}\n`);
  } finally {
    await fh.close();
  }
}

/**
 * Create a file with exactly `data` (0600, O_EXCL: never over an existing one); when it already
 * exists, return what it holds, after the same owner checks as readPrivateFile().
 */
export async function createOrReadPrivateFile(file: string, data: Buffer): Promise<Buffer> {
  // Almost always it exists: read it, with no temp file written and flushed for nothing.
  const existing = await readOwnPrivate(file).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw err;
  });
  if (existing) return existing;
  // Written in full under a temp name, then link()ed into place: link fails with EEXIST when
  // another process won, and nobody ever sees the file half-written (an empty key).
  const tmp = join(dirname(file), `.${crypto().randomBytes(8).toString('hex')}.tmp`);
  const out = await open(tmp, O_WRONLY | O_CREAT | O_EXCL | NOFOLLOW, 0o600);
  try {
    await out.writeFile(data);
    await out.sync();
  } finally {
    await out.close();
  }
  try {
    await link(tmp, file);
    return data;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    await unlink(tmp).catch(() => {});
  }
  return readOwnPrivate(file);
}

/** A file only its owner may read (readPrivateFile's checks, and none for group or others). */
async function readOwnPrivate(file: string): Promise<Buffer> {
  const fh = await openOwn(file, O_RDONLY);
  try {
    const st = await fh.stat();
    if ((st.mode & 0o077) !== 0) throw refuse(file, `readable by group or others (mode ${(st.mode & 0o777).toString(8).padStart(4, '0')})`, fileHint(file));
    return await fh.readFile();
  } finally {
    await fh.close();
  }
}
