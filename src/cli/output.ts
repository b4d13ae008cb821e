import type { IO } from './io.js';
import type { Lease } from '../leases/lease.js';
import { escapeControl, safeJson } from '../core/terminal-text.js';
import type { DatabaseConfig } from '../policy/types.js';
import { serverKeyOf } from '../engines/engine.js';

// Everything below prints text that may hold what others wrote (a reason, a query, a server's
// message): control and bidi characters are shown escaped, never sent to the terminal raw.

/** Data on stdout; jit's own line breaks (and tabs) kept, every other control character escaped. */
export function printData(io: IO, text: string): void {
  const safe = escapeControl(text, '\n\t');
  io.stdout.write(safe.endsWith('\n') ? safe : `${safe}\n`);
}

/** JSON on stdout, with DEL, C1 and bidi characters escaped as \uXXXX too. */
export function printJson(io: IO, value: unknown): void {
  io.stdout.write(`${safeJson(value, 2)}\n`);
}

/** A notice for people on stderr; silent with --quiet or --json. */
export function notice(io: IO, text: string): void {
  if (io.quiet || io.json) return;
  try {
    io.stderr.write(`${escapeControl(text, '\n')}\n`);
  } catch {
    // the terminal may be gone (SIGHUP); notices are best effort
  }
}

/** A problem line on stderr (`error: DB: …`, `failed …`, `warning: …`); shown even with --json. */
export function problem(io: IO, text: string): void {
  try {
    io.stderr.write(`${escapeControl(text, '\n')}\n`);
  } catch {
    // the terminal may be gone (SIGHUP)
  }
}

/** The object `uri`/`env` print with --json (DESIGN §1). */
export function leaseJson(lease: Lease, uri: string): Record<string, unknown> {
  return { id: lease.id, database: lease.database, role: lease.role, user: lease.user, uri, expires_at: lease.expiresAt };
}

export { relative } from '../core/time-text.js';


/** Plain fixed-width table for people. */
export function table(rawRows: string[][]): string {
  if (rawRows.length === 0) return '';
  // Escape before measuring, so the columns line up with what the terminal shows.
  const rows = rawRows.map((r) => r.map((c) => escapeControl(c)));
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n') + '\n';
}

/**
 * One `error:` line per server that failed, naming the policy databases on it (they share the
 * server's logins, so one failure is not several).
 */
export function reportPerServer(failures: Array<{ db: DatabaseConfig; error: string }>, io: IO): void {
  const byServer = new Map<string, { names: string[]; error: string }>();
  for (const f of failures) {
    const key = serverKeyOf(f.db);
    const seen = byServer.get(key);
    if (seen) seen.names.push(f.db.name);
    else byServer.set(key, { names: [f.db.name], error: f.error });
  }
  for (const { names, error } of byServer.values()) problem(io, `error: ${names.join(', ')}: ${error}`);
}
