import { formatDuration, tryParseDuration } from '../core/duration.js';
import type { EngineProfile } from '../engines/profile.js';
import type { PolicyReader, Spot } from './yaml-reader.js';
import type { SessionLimitName, SessionLimits } from './types.js';

/** The role keys that set a session limit, and where each lands in SessionLimits. */
export const LIMIT_KEYS: Readonly<Record<SessionLimitName, keyof SessionLimits>> = {
  statement_timeout: 'statementTimeoutMs',
  idle_timeout: 'idleTimeoutMs',
  transaction_timeout: 'transactionTimeoutMs',
};

/** The shortest limit: the servers count these in whole seconds at best (MariaDB) or milliseconds. */
export const MIN_LIMIT_MS = 1_000;

/**
 * The role's session limits. Each is a duration of at least 1s and at most the role's max_ttl (a
 * longer one never applies: the login is gone by then), on an engine that has it.
 */
export function validateLimits(r: PolicyReader, fields: Map<string, Spot>, profile: EngineProfile, maxTtlMs: number): SessionLimits {
  const limits: SessionLimits = {};
  for (const [key, field] of Object.entries(LIMIT_KEYS) as Array<[SessionLimitName, keyof SessionLimits]>) {
    const s = fields.get(key);
    if (!s) continue;
    const why = profile.unsupportedLimits[key];
    if (why) r.fail(s, `${profile.label} has no ${key}: ${why}`, `remove ${key} from the role`);
    const v = r.scalar(s);
    const ms = typeof v === 'string' ? tryParseDuration(v) : null;
    if (ms === null) r.fail(s, `${JSON.stringify(v ?? '')} is not a duration`, 'use a duration such as 30s, 5m or 1h');
    if (ms < MIN_LIMIT_MS) r.fail(s, `${key} ${formatDuration(ms)} is below the ${formatDuration(MIN_LIMIT_MS)} minimum`);
    if (ms > maxTtlMs) {
      r.fail(s, `${key} ${formatDuration(ms)} is above the role's max_ttl ${formatDuration(maxTtlMs)}`, 'a limit longer than the login lives never applies: lower it or leave it out');
    }
    limits[field] = ms;
  }
  return limits;
}
