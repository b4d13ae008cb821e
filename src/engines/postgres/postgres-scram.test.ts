import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { scramKeys, scramVerifier } from './postgres-scram.js';

// RFC 7677 §3: the full SCRAM-SHA-256 exchange for user "user", password "pencil".
const RFC = {
  salt: 'W22ZaJ0SNY7soEsUEjb6gQ==',
  clientFirstBare: 'n=user,r=rOprNGfwEbeRWgbNEkqO',
  serverFirst: 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
  clientFinalNoProof: 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0',
  proof: 'dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
  serverSignature: '6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=',
};

describe('scramVerifier', () => {
  it('yields keys that verify the RFC 7677 exchange the way a server does', () => {
    const verifier = scramVerifier('pencil', Buffer.from(RFC.salt, 'base64'));
    const m = /^SCRAM-SHA-256\$4096:([^$]+)\$([^:]+):(.+)$/.exec(verifier);
    expect(m).not.toBeNull();
    const [, salt, storedKey, serverKey] = m!;
    expect(salt).toBe(RFC.salt);
    const authMessage = `${RFC.clientFirstBare},${RFC.serverFirst},${RFC.clientFinalNoProof}`;
    // Server side: ServerSignature = HMAC(ServerKey, AuthMessage) is what the client checks.
    const serverSig = createHmac('sha256', Buffer.from(serverKey, 'base64')).update(authMessage).digest('base64');
    expect(serverSig).toBe(RFC.serverSignature);
    // ClientKey = proof XOR HMAC(StoredKey, AuthMessage); the server accepts when SHA256(ClientKey) = StoredKey.
    const clientSig = createHmac('sha256', Buffer.from(storedKey, 'base64')).update(authMessage).digest();
    const clientKey = Buffer.from(RFC.proof, 'base64').map((b, i) => b ^ clientSig[i]!);
    expect(createHash('sha256').update(clientKey).digest('base64')).toBe(storedKey);
  });

  it('draws a fresh 16-byte salt each time', () => {
    const a = scramVerifier('same-password');
    const b = scramVerifier('same-password');
    expect(a).not.toBe(b);
    expect(Buffer.from(a.split('$')[1]!.split(':')[1]!, 'base64')).toHaveLength(16);
    expect(a).toMatch(/^SCRAM-SHA-256\$4096:[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{44}:[A-Za-z0-9+/=]{44}$/);
  });

  it('never contains the password', () => {
    const pw = 'Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4cXV1eHF1dXg';
    expect(scramVerifier(pw)).not.toContain(pw);
  });

  it('refuses passwords that SASLprep might change, instead of storing a verifier that never matches', () => {
    expect(() => scramKeys('pässword', Buffer.alloc(16))).toThrow(/ASCII/);
    expect(() => scramKeys('tab\there', Buffer.alloc(16))).toThrow(/ASCII/);
  });
});
