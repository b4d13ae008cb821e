import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { statePaths } from '../leases/paths.js';

/** Messages on the reaper's unix socket: one JSON object per line. */
export type ReaperRequest =
  | { type: 'hello' }
  /** A new or changed lease, with the admin credential the reaper keeps in memory only. */
  | { type: 'lease'; id: string; key: string; secret?: string }
  | { type: 'stop' };

export type ReaperReply = { ok: true; pid: number; leases?: number } | { ok: false; error: string };

/** Key under which the reaper keeps a credential: one per (policy database, admin source). */
export function credentialKey(database: string, adminSource: string): string {
  return `${database}\u0000${adminSource}`;
}

// sun_path holds 108 bytes on Linux and 104 on macOS; a deep $JIT_HOME would not fit.
const MAX_SOCKET_PATH = 100;

export function reaperSocketPath(root: string): string {
  const p = statePaths(root).reaperSocket;
  if (Buffer.byteLength(p) <= MAX_SOCKET_PATH) return p;
  const digest = createHash('sha256').update(root).digest('hex').slice(0, 16);
  const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
  return join(tmpdir(), `jit-${uid}-${digest}.sock`);
}
