import { crypto } from './builtins.js';

const LOWER_ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** n characters from [a-z0-9], uniformly (no modulo bias). */
export function randomLowerAlnum(n: number): string {
  let out = '';
  for (let i = 0; i < n; i++) out += LOWER_ALNUM[crypto().randomInt(LOWER_ALNUM.length)];
  return out;
}

/** A login password: 32 random bytes as base64url, i.e. 43 URL-safe ASCII characters. */
export function generatePassword(): string {
  return crypto().randomBytes(32).toString('base64url');
}

/** A short lease id, e.g. `l7k2m9q4x1`: easy to type after `jit revoke`. */
export function generateLeaseId(): string {
  return randomLowerAlnum(10);
}
