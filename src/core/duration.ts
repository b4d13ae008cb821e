import parse from 'parse-duration';
import { usageError } from './errors.js';

// The contract's grammar (DESIGN §1): 30s, 15m, 2h, 1h30m, 1d. parse-duration accepts far more
// ("1 hour", "5" meaning ms, "1.5h"), so the shape is checked first and parse-duration does the sum.
const SHAPE = /^(?:\d+(?:d|h|m|s))+$/;

/** Parse a duration like `1h30m` into milliseconds, or return null when it is malformed. */
export function tryParseDuration(text: string): number | null {
  const t = text.trim();
  if (!SHAPE.test(t)) return null;
  const ms = parse(t);
  return typeof ms === 'number' && Number.isFinite(ms) && ms > 0 ? ms : null;
}

/** Parse a duration or throw a usage error naming where it came from. */
export function parseDuration(text: string, what = '--ttl'): number {
  const ms = tryParseDuration(text);
  if (ms === null) {
    throw usageError(`${what} ${JSON.stringify(text)} is not a duration`, 'use a duration such as 30s, 15m, 2h or 1h30m');
  }
  return ms;
}

/** 5400000 → "1h30m"; 90000 → "1m30s". */
export function formatDuration(ms: number): string {
  let s = Math.max(0, Math.round(ms / 1000));
  if (s === 0) return '0s';
  const parts: string[] = [];
  for (const [unit, size] of [['d', 86400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    if (s >= size) {
      parts.push(`${Math.floor(s / size)}${unit}`);
      s %= size;
    }
  }
  return parts.join('');
}

export const MIN_TTL_MS = 5_000;
/** Upper bound for a role's ttl and max_ttl: a login meant to be temporary lives 30 days at most. */
export const MAX_TTL_MS = 30 * 86_400_000;
