import { crypto } from '../../core/builtins.js';

/**
 * mysql_native_password's stored form, `*` + upper-case hex SHA1(SHA1(password)): what
 * `IDENTIFIED BY PASSWORD` takes, so the plaintext never reaches the server, its general log or
 * its binary log (DESIGN §5).
 */
export function nativePasswordHash(password: string): string {
  const once = crypto().createHash('sha1').update(password, 'utf8').digest();
  return '*' + crypto().createHash('sha1').update(once).digest('hex').toUpperCase();
}
