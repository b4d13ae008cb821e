import { usageError } from './errors.js';

// What users type (DESIGN §1: 30s, 15m, 2h, 1h30m, 1d), with units in either case and decimal
// amounts (1.5h, 0.5m) as long as the whole adds up to whole seconds: a login's expiry is kept
// to the second on every engine. Anything else ("1 hour", a bare "5", "10ms") is refused with the
// reason. The sum is exact (integers scaled by the decimals), never floating point: 0.1h is 360s.
const PART = /(\d+(?:\.\d+)?|\.\d+)([dhms])/gi;
const SHAPE = /^(?:(?:\d+(?:\.\d+)?|\.\d+)[dhms])+$/i;
const UNIT_MS: Record<string, bigint> = { d: 86_400_000n, h: 3_600_000n, m: 60_000n, s: 1000n };

type Parsed = { ms: number } | { why: string; hint?: string };

function parseParts(text: string): Parsed {
  const t = text.trim();
  if (/^\d+(?:\.\d+)?$/.test(t)) return { why: 'has no unit', hint: `add one: ${t}s, ${t}m or ${t}h` };
  if (!SHAPE.test(t)) return { why: 'is not a duration' };
  const parts = [...t.matchAll(PART)].map(([, n, u]) => {
    const [int = '', frac = ''] = n!.split('.');
    return { int: int || '0', frac, unit: UNIT_MS[u!.toLowerCase()]! };
  });
  // Sum in units of 10^-k ms, k the most decimals any part has.
  const k = Math.max(...parts.map((p) => p.frac.length));
  const scale = 10n ** BigInt(k);
  let ms = 0n;
  for (const p of parts) ms += BigInt(p.int + p.frac.padEnd(k, '0')) * p.unit;
  if (ms % (1000n * scale) !== 0n) return { why: 'is not a whole number of seconds', hint: 'jit counts lifetimes in whole seconds: use e.g. 1m30s or 1.5m' };
  const total = Number(ms / scale);
  if (total <= 0) return { why: 'is zero' };
  return { ms: total };
}

/** Parse a duration like `1h30m`, `1H` or `1.5h` into milliseconds, or return null when it is malformed. */
export function tryParseDuration(text: string): number | null {
  const p = parseParts(text);
  return 'ms' in p ? p.ms : null;
}

/** Parse a duration or throw a usage error naming where it came from and what is wrong with it. */
export function parseDuration(text: string, what = '--ttl'): number {
  const p = parseParts(text);
  if ('ms' in p) return p.ms;
  throw usageError(`${what} ${JSON.stringify(text)} ${p.why}`, p.hint ?? 'use a duration such as 30s, 15m, 2h, 1h30m or 1.5h');
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
