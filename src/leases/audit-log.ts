import { appendLine, checkPrivateDir, ensurePrivateDir, readPrivateFile } from '../core/fs-secure.js';
import { redact } from '../core/redact.js';
import { safeJson } from '../core/terminal-text.js';
import { statePaths } from './paths.js';
import type { Lease } from './lease.js';

export type AuditEvent =
  | 'mint'
  | 'handout'
  | 'connect'
  | 'exec'
  | 'extend'
  | 'revoke'
  | 'mint-failed'
  | 'revoke-failed';

/** Why a login was revoked. */
export type RevokeCause = 'exit' | 'expiry' | 'manual' | 'revoke-all' | 'reap' | 'mint-failed' | 'crash-recovery' | 'revoked-elsewhere';

export interface AuditEntry {
  time: string;
  event: AuditEvent;
  lease?: string;
  database?: string;
  role?: string;
  login?: string;
  requester?: string;
  requester_host?: string;
  reason?: string;
  ttl?: string;
  expires_at?: string;
  cause?: RevokeCause;
  command?: string;
  exit_code?: number;
  error?: string;
  /** Who did it (`user@host`) when that is not the requester: a revoke or extend by someone else. */
  actor?: string;
  [key: string]: unknown;
}

/** What every entry about a lease says: whose login, what for, until when. */
export function leaseFields(lease: Lease): Omit<AuditEntry, 'time' | 'event'> {
  return {
    lease: lease.id,
    database: lease.database,
    role: lease.role,
    login: lease.user,
    requester: lease.requester,
    requester_host: lease.requesterHost,
    ...(lease.reason ? { reason: lease.reason } : {}),
    expires_at: lease.expiresAt,
  };
}

/**
 * Append-only JSONL under `$JIT_HOME/audit.jsonl` (0600). Every line passes redact(), and holds no raw
 * DEL, C1 or bidi character, so `cat` or `tail -f` of the file cannot be steered by a reason or an error text.
 */
export class AuditLog {
  readonly file: string;

  constructor(readonly root: string) {
    this.file = statePaths(root).audit;
  }

  /** Append one entry, or several in one write. */
  async append(...entries: Array<Omit<AuditEntry, 'time'> & { time?: string }>): Promise<void> {
    await ensurePrivateDir(this.root);
    const now = new Date().toISOString();
    const lines = entries.map((e) => redact(safeJson({ time: e.time ?? now, ...e })));
    await appendLine(this.file, lines.join('\n'));
  }

  async read(): Promise<AuditEntry[]> {
    let text: string;
    await checkPrivateDir(this.root);
    try {
      text = await readPrivateFile(this.file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const entries: AuditEntry[] = [];
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      try {
        entries.push(JSON.parse(line) as AuditEntry);
      } catch {
        // a torn last line from a killed process
      }
    }
    return entries;
  }
}
