import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TLSSocket } from 'node:tls';
import type { PgServer } from '../helpers/pg-server.js';
import { usePostgres } from '../helpers/servers.js';
import { makeWorld, testPolicy, type JitWorld } from '../helpers/jit-cli.js';

/**
 * An impostor PostgreSQL server: answers SSLRequest ('S' with a self-signed certificate, or 'N'),
 * reads the startup message, asks for the password in cleartext (code 3), as MD5 (code 5) or by
 * SASL (code 10, offering SCRAM-SHA-256-PLUS and SCRAM-SHA-256, or only SCRAM-SHA-256), or asks
 * for GSSAPI (7) or SSPI (9), or lets the client in at once (AuthenticationOk, ReadyForQuery)
 * without asking, and records every PasswordMessage / SASLInitialResponse ('p') and every other
 * message (a query) it receives.
 */
interface Impostor {
  port: number;
  /** Passwords (payloads of 'p' messages) received so far. */
  passwords: string[];
  /** Type bytes of the other messages received after the startup (a 'Q' is a query). */
  messages: string[];
  /** Resolves when every connection accepted so far has closed. */
  settled(): Promise<void>;
  close(): Promise<void>;
}

async function startImpostor(method: 'cleartext' | 'md5' | 'sasl' | 'sasl-unbound' | 'gss' | 'sspi' | 'ok', tls: { key: Buffer; cert: Buffer } | null): Promise<Impostor> {
  const passwords: string[] = [];
  const messages: string[] = [];
  const closed: Promise<void>[] = [];
  const server: Server = createServer((raw) => {
    closed.push(new Promise((r) => raw.once('close', () => r())));
    raw.on('error', () => {});
    let sock: Socket = raw;
    let buf = Buffer.alloc(0);
    let phase: 'first' | 'startup' | 'auth' = 'first';
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        if (phase === 'auth') {
          if (buf.length < 5) return;
          const len = buf.readInt32BE(1);
          if (buf.length < 1 + len) return;
          if (buf[0] === 0x70) passwords.push(buf.subarray(5, len).toString('utf8').replace(/\0$/, ''));
          else messages.push(String.fromCharCode(buf[0]!));
          buf = buf.subarray(1 + len);
          // An ErrorResponse ends the attempt, as a server whose check failed would.
          const msg = Buffer.from('SFATAL\0C28P01\0Mpassword authentication failed\0\0');
          const e = Buffer.alloc(5);
          e.write('E');
          e.writeInt32BE(4 + msg.length, 1);
          sock.write(Buffer.concat([e, msg]));
          sock.end();
          continue;
        }
        if (buf.length < 8) return;
        const len = buf.readInt32BE(0);
        if (buf.length < len) return;
        const code = buf.readInt32BE(4);
        buf = buf.subarray(len);
        if (phase === 'first' && code === 80877103) {
          if (tls) {
            raw.write('S');
            raw.removeListener('data', onData);
            const secure = new TLSSocket(raw, { isServer: true, key: tls.key, cert: tls.cert });
            secure.on('error', () => {});
            secure.on('data', onData);
            sock = secure;
            phase = 'startup';
            return;
          }
          raw.write('N');
          phase = 'startup';
          continue;
        }
        // The startup message: ask for the password.
        phase = 'auth';
        const requests = {
          gss: int32(7),
          sspi: int32(9),
          cleartext: int32(3),
          md5: Buffer.concat([int32(5), Buffer.from('salt')]),
          'sasl-unbound': Buffer.concat([int32(10), Buffer.from('SCRAM-SHA-256\0\0')]),
          sasl: Buffer.concat([int32(10), Buffer.from('SCRAM-SHA-256-PLUS\0SCRAM-SHA-256\0\0')]),
          ok: int32(0),
        };
        const body = requests[method];
        sock.write(Buffer.concat([Buffer.from('R'), int32(4 + body.length), body]));
        // Logged in: BackendKeyData and ReadyForQuery (idle), as a trusting server sends them.
        if (method === 'ok') sock.write(Buffer.concat([Buffer.from('K'), int32(12), int32(4242), int32(1), Buffer.from('Z'), int32(5), Buffer.from('I')]));
      }
    };
    raw.on('data', onData);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as AddressInfo).port,
    passwords,
    messages,
    settled: async () => {
      await Promise.all(closed);
    },
    close: () => new Promise((r) => server.close(() => r())),
  };
}

function int32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
}

const ADMIN_PW = 'impostor-bait-Secret-1234567890';
let dir: string;
let cert: { key: Buffer; cert: Buffer };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jit-impostor-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'), '-days', '1', '-subj', '/CN=impostor'], { stdio: 'ignore' });
  cert = { key: await readFile(join(dir, 'k.pem')), cert: await readFile(join(dir, 'c.pem')) };
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function impostorPolicy(port: number, tls: string, auth?: string): string {
  return `version: 1
databases:
  prod:
    engine: postgres
    host: 127.0.0.1
    port: ${port}
    database: app
    tls: ${tls}
    admin:
      user: jit_admin
      password: env:JIT_TEST_ADMIN_PW
${auth ? `      auth: ${auth}\n` : ''}    roles:
      readonly:
        grants:
          - privileges: [SELECT]
            tables: [public.orders]
`;
}

/** A world whose policy points at `policy`; the server helper is only used for makeWorld's defaults. */
async function world(policy: string): Promise<JitWorld> {
  const fake = { port: 1, adminPassword: ADMIN_PW } as unknown as PgServer;
  return makeWorld(fake, { policy });
}

describe('the admin password goes only to a server that asks by SCRAM (an impostor with a self-signed certificate received it)', () => {
  it.each([
    ['cleartext', 'require', 'in cleartext'],
    ['md5', 'require', 'as an MD5 hash'],
    ['cleartext', 'disable', 'in cleartext'],
    ['md5', 'disable', 'as an MD5 hash'],
  ] as const)('refuses a %s request (tls: %s) with exit 1 and one line; the impostor receives nothing', async (method, tls, how) => {
    const imp = await startImpostor(method, tls === 'require' ? cert : null);
    const w = await world(impostorPolicy(imp.port, tls));
    try {
      const r = await w.run(['uri', 'prod', '--role', 'readonly']);
      await imp.settled();
      expect(imp.passwords).toEqual([]);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(2);
      expect(lines[0]).toBe(`error: the server at 127.0.0.1:${imp.port} asked for the admin password ${how}; jit refused to send it`);
      expect(lines[1]).toMatch(/^hint: if that server is yours, use scram-sha-256 in its pg_hba\.conf, or allow it with admin\.auth: (password|md5) in the policy/);
      expect(r.stderr).not.toContain(ADMIN_PW);
    } finally {
      await w.cleanup();
      await imp.close();
    }
  });

  it('admin.auth: password is an explicit opt-in: then the server asking in cleartext gets the password', async () => {
    const imp = await startImpostor('cleartext', cert);
    const w = await world(impostorPolicy(imp.port, 'require', 'password'));
    try {
      const r = await w.run(['uri', 'prod', '--role', 'readonly']);
      await imp.settled();
      expect(imp.passwords).toEqual([ADMIN_PW]);
      expect(r.code).toBe(1);
      expect(r.stderr).not.toContain(ADMIN_PW);
    } finally {
      await w.cleanup();
      await imp.close();
    }
  });

  it.each([
    ['require', 'SCRAM-SHA-256-PLUS'],
    ['disable', 'SCRAM-SHA-256'],
  ])('with tls: %s, answers SCRAM with %s (channel binding whenever TLS is on)', async (tls, mechanism) => {
    const imp = await startImpostor('sasl', tls === 'require' ? cert : null);
    const w = await world(impostorPolicy(imp.port, tls));
    try {
      const r = await w.run(['uri', 'prod', '--role', 'readonly']);
      await imp.settled();
      expect(imp.passwords).toHaveLength(1);
      expect(imp.passwords[0]!.split('\0')[0]).toBe(mechanism);
      expect(imp.passwords[0]).not.toContain(ADMIN_PW);
      expect(r.code).toBe(1);
    } finally {
      await w.cleanup();
      await imp.close();
    }
  });

  it('over TLS, refuses SCRAM without channel binding (a relay to a plaintext server offers only SCRAM-SHA-256): nothing is sent', async () => {
    const imp = await startImpostor('sasl-unbound', cert);
    const w = await world(impostorPolicy(imp.port, 'require'));
    try {
      const r = await w.run(['uri', 'prod', '--role', 'readonly']);
      await imp.settled();
      expect(imp.passwords).toEqual([]);
      expect(r.code).toBe(1);
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(2);
      expect(lines[0]).toBe(`error: the server at 127.0.0.1:${imp.port} offered SCRAM over TLS without channel binding (no SCRAM-SHA-256-PLUS); jit refused to answer`);
      expect(lines[1]).toMatch(/^hint: /);
    } finally {
      await w.cleanup();
      await imp.close();
    }
  });

  it.each([
    ['gss', 7, 'GSSAPI'],
    ['sspi', 9, 'SSPI'],
  ] as const)('a server asking for %s authentication gets a one-line refusal, not a crash with a stack trace', async (method, code, name) => {
    const imp = await startImpostor(method, null);
    const w = await world(impostorPolicy(imp.port, 'disable'));
    try {
      const r = await w.run(['uri', 'prod', '--role', 'readonly']);
      await imp.settled();
      expect(imp.passwords).toEqual([]);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(2);
      expect(lines[0]).toBe(`error: the server at 127.0.0.1:${imp.port} asked for ${name} authentication (request ${code}), which jit does not support for the admin login`);
      expect(lines[1]).toMatch(/^hint: /);
    } finally {
      await w.cleanup();
      await imp.close();
    }
  });

  it.each(['require', 'disable'])('a server that lets the admin in without asking (tls: %s) gets no statement, and jit says why in one line', async (tls) => {
    const imp = await startImpostor('ok', tls === 'require' ? cert : null);
    const w = await world(impostorPolicy(imp.port, tls));
    try {
      const r = await w.run(['uri', 'prod', '--role', 'readonly']);
      await imp.settled();
      expect(imp.passwords).toEqual([]);
      expect(imp.messages.filter((m) => m !== 'X')).toEqual([]);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(2);
      expect(lines[0]).toBe(`error: the server at 127.0.0.1:${imp.port} let the admin in without asking for a password (trust authentication, or not the real server); jit stopped before sending anything`);
      expect(lines[1]).toMatch(/^hint: use scram-sha-256/);
    } finally {
      await w.cleanup();
      await imp.close();
    }
  });

  it('admin.auth: md5 still refuses a cleartext request', async () => {
    const imp = await startImpostor('cleartext', null);
    const w = await world(impostorPolicy(imp.port, 'disable', 'md5'));
    try {
      const r = await w.run(['uri', 'prod', '--role', 'readonly']);
      await imp.settled();
      expect(imp.passwords).toEqual([]);
      expect(r.code).toBe(1);
      expect(r.stderr.split('\n')[0]).toMatch(/asked for the admin password in cleartext; jit refused to send it$/);
    } finally {
      await w.cleanup();
      await imp.close();
    }
  });
});

describe('a real PostgreSQL 15 with md5 or password in pg_hba.conf', () => {
  // Exclusive: pg_hba.conf, ssl and `revoke --all` are the server's, not this file's.
  const pg = usePostgres(15, { exclusive: true });
  beforeAll(async () => {
    const c = await pg.admin();
    try {
      // An MD5-stored verifier makes the md5 method really use MD5 (with a SCRAM one the server switches to SCRAM).
      await c.query(`SET password_encryption = 'md5'`);
      await c.query(`CREATE ROLE md5admin SUPERUSER LOGIN PASSWORD '${pg.adminPassword}'`);
      await c.query(`RESET password_encryption`);
      await c.query(`CREATE ROLE pwadmin SUPERUSER LOGIN PASSWORD '${pg.adminPassword}'`);
    } finally {
      await c.end();
    }
    await pg.editHba((old) => `host all md5admin 127.0.0.1/32 md5\nhost all pwadmin 127.0.0.1/32 password\n${old}`);
    // TLS with the self-signed certificate, so tls: require runs SCRAM-SHA-256-PLUS against a real server.
    await writeFile(join(pg.dataDir, 'server.crt'), cert.cert);
    await writeFile(join(pg.dataDir, 'server.key'), cert.key, { mode: 0o600 });
    if (process.getuid?.() === 0) execFileSync('chown', ['postgres:postgres', join(pg.dataDir, 'server.crt'), join(pg.dataDir, 'server.key')]);
    await pg.configure({ ssl: 'on' });
  });

  const policyFor = (user: string, auth?: string) =>
    testPolicy(pg).replace('      user: postgres\n', `      user: ${user}\n${auth ? `      auth: ${auth}\n` : ''}`);

  it.each([
    ['md5admin', undefined, 'as an MD5 hash'],
    ['pwadmin', undefined, 'in cleartext'],
    ['pwadmin', 'md5', 'in cleartext'],
  ])('refuses %s with admin.auth %s', async (user, auth, how) => {
    const w = await makeWorld(pg, { policy: policyFor(user, auth) });
    try {
      const r = await w.run(['uri', 'testdb', '--role', 'readonly']);
      expect(r.code).toBe(1);
      expect(r.stderr.split('\n')[0]).toBe(`error: the server at 127.0.0.1:${pg.port} asked for the admin password ${how}; jit refused to send it`);
    } finally {
      await w.cleanup();
    }
  });

  it('mints through TLS with channel binding (tls: require, SCRAM-SHA-256-PLUS offered by the server)', async () => {
    const w = await makeWorld(pg, { policy: testPolicy(pg).replace('tls: disable', 'tls: require') });
    try {
      const r = await w.run(['uri', 'testdb', '--role', 'readonly']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('sslmode=require');
      expect((await w.run(['revoke', '--all', '--yes'])).code).toBe(0);
    } finally {
      await w.cleanup();
    }
  });

  it.each([
    ['md5admin', 'md5'],
    ['md5admin', 'password'],
    ['pwadmin', 'password'],
  ])('mints and revokes through %s with admin.auth: %s', async (user, auth) => {
    const w = await makeWorld(pg, { policy: policyFor(user, auth) });
    try {
      const r = await w.run(['uri', 'testdb', '--role', 'readonly']);
      expect(r.code, r.stderr).toBe(0);
      expect((await w.run(['revoke', '--all', '--yes'])).code).toBe(0);
    } finally {
      await w.cleanup();
    }
  });
});
