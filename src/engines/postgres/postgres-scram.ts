import { crypto } from '../../core/builtins.js';

/** PostgreSQL's default and the RFC 7677 minimum. */
export const SCRAM_ITERATIONS = 4096;

/**
 * The SCRAM-SHA-256 verifier PostgreSQL stores for a password
 * (`SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`, all base64), computed here so
 * that CREATE ROLE … PASSWORD carries a hash: statement logs and pg_stat_statements never see
 * the plaintext. The server stores a string of this shape as is.
 */
export function scramVerifier(password: string, salt: Buffer = crypto().randomBytes(16), iterations = SCRAM_ITERATIONS): string {
  const { storedKey, serverKey } = scramKeys(password, salt, iterations);
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

export interface ScramKeys {
  storedKey: Buffer;
  serverKey: Buffer;
}

export function scramKeys(password: string, salt: Buffer, iterations = SCRAM_ITERATIONS): ScramKeys {
  // The server runs SASLprep on the password first; for printable ASCII that is the identity.
  // jit's passwords are base64url, so refuse anything else rather than compute a verifier that
  // would not match what the server derives from the same password.
  if (!/^[\x20-\x7e]*$/.test(password)) throw new Error('SCRAM verifiers are only computed for printable-ASCII passwords');
  const salted = crypto().pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, 32, 'sha256');
  const clientKey = crypto().createHmac('sha256', salted).update('Client Key').digest();
  return {
    storedKey: crypto().createHash('sha256').update(clientKey).digest(),
    serverKey: crypto().createHmac('sha256', salted).update('Server Key').digest(),
  };
}
