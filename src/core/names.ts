import { randomLowerAlnum } from './random.js';

export const LOGIN_PREFIX = 'jit_';
const MIN_RANDOM = 10;

/** Reduce an OS user name to what is safe and readable inside a login name. */
export function sanitizeRequester(requester: string): string {
  const cleaned = requester
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '')
    .slice(0, 64);
  return cleaned || 'user';
}

/**
 * `jit_<requester>_<random>` within the engine's limit (Postgres 63 bytes, MySQL 32 chars):
 * the requester part is shortened, never the random part (at least 10 characters).
 */
export function makeLoginName(requester: string, maxLength: number, randomLength = 12): string {
  const rand = randomLowerAlnum(Math.max(MIN_RANDOM, randomLength));
  const room = maxLength - LOGIN_PREFIX.length - 1 - rand.length;
  const who = sanitizeRequester(requester).slice(0, Math.max(0, room));
  return who ? `${LOGIN_PREFIX}${who}_${rand}` : `${LOGIN_PREFIX}${rand}`.slice(0, maxLength);
}
