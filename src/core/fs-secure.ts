import { mkdir, chmod, open, rename, writeFile, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';

/** Create a directory readable by its owner only (0700), tightening it when it already exists. */
export async function ensurePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
}

/**
 * Write a 0600 file atomically: temp file in the same directory, rename. With `durable`, the data
 * is flushed to disk before the rename, so it survives a power loss too.
 */
export async function writeFileAtomic(file: string, data: string, durable = true): Promise<void> {
  const tmp = join(dirname(file), `.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const fh = await open(tmp, 'wx', 0o600);
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
  await writeFile(file, line.endsWith('\n') ? line : `${line}\n`, { flag: 'a', mode: 0o600 });
}
