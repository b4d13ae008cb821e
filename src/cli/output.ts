import type { IO } from './io.js';
import type { Lease } from '../leases/lease.js';

/** One data line on stdout. */
export function printData(io: IO, text: string): void {
  io.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

export function printJson(io: IO, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** A notice for people on stderr; silent with --quiet or --json. */
export function notice(io: IO, text: string): void {
  if (io.quiet || io.json) return;
  try {
    io.stderr.write(`${text}\n`);
  } catch {
    // the terminal may be gone (SIGHUP); notices are best effort
  }
}

/** The object `uri`/`env` print with --json (DESIGN §1). */
export function leaseJson(lease: Lease, uri: string): Record<string, unknown> {
  return { id: lease.id, database: lease.database, role: lease.role, user: lease.user, uri, expires_at: lease.expiresAt };
}

/** `in 15m` / `2m ago`, for people. */
export function relative(targetIso: string, nowMs: number): string {
  const d = Date.parse(targetIso) - nowMs;
  const s = Math.round(Math.abs(d) / 1000);
  const txt = s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m` : s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
  return d >= 0 ? `in ${txt}` : `${txt} ago`;
}

/** Plain fixed-width table for people. */
export function table(rows: string[][]): string {
  if (rows.length === 0) return '';
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n') + '\n';
}
