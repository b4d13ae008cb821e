import { describe, expect, it } from 'vitest';
import type { ServerTarget } from '../engine.js';
import { postgresEngine } from './postgres-engine.js';
import { adminClientConfig } from './postgres-engine.js';
import { parse } from 'pg-connection-string';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const target: ServerTarget = { engine: 'postgres', host: 'db.internal', port: 5432, database: 'app', tls: 'require', adminUser: 'admin' };
const NASTY = `p@ss:w/o#r?d%'"$() &+=;,[]\\!*~`;

describe('buildUri', () => {
  it('percent-encodes userinfo and database so new URL() gives the exact values back', () => {
    const uri = postgresEngine.buildUri({ ...target, database: 'my db/#1' }, 'jit_a"b@c', NASTY);
    const url = new URL(uri);
    expect(url.protocol).toBe('postgresql:');
    expect(url.hostname).toBe('db.internal');
    expect(url.port).toBe('5432');
    expect(decodeURIComponent(url.username)).toBe('jit_a"b@c');
    expect(decodeURIComponent(url.password)).toBe(NASTY);
    expect(decodeURIComponent(url.pathname.slice(1))).toBe('my db/#1');
    expect(url.searchParams.get('sslmode')).toBe('require');
    expect(uri).not.toMatch(/['"()$ ]/);
  });

  it('is exact for the usual case', () => {
    expect(postgresEngine.buildUri(target, 'jit_ana_k2m9q4x1z8', 'abc-DEF_123')).toBe(
      'postgresql://jit_ana_k2m9q4x1z8:abc-DEF_123@db.internal:5432/app?sslmode=require',
    );
  });

  it('puts IPv6 hosts in brackets', () => {
    const uri = postgresEngine.buildUri({ ...target, host: '::1', tls: 'verify-full' }, 'jit_u', 'pw');
    expect(uri).toBe('postgresql://jit_u:pw@[::1]:5432/app?sslmode=verify-full');
    expect(new URL(uri).hostname).toBe('[::1]');
  });

  it.each(['disable', 'require', 'verify-full'] as const)('carries tls: %s as sslmode', (tls) => {
    expect(postgresEngine.buildUri({ ...target, tls }, 'u', 'p')).toMatch(new RegExp(`\\?sslmode=${tls}$`));
  });
});

describe('clientEnv / clientLaunch', () => {
  it("sets libpq's variables, the password only in PGPASSWORD", () => {
    expect(postgresEngine.clientEnv(target, 'jit_u', NASTY)).toEqual({
      PGHOST: 'db.internal',
      PGPORT: '5432',
      PGDATABASE: 'app',
      PGUSER: 'jit_u',
      PGPASSWORD: NASTY,
      PGSSLMODE: 'require',
      PGCONNECT_TIMEOUT: '10',
    });
  });

  it('launches psql with the password in its environment only: no argv, no file', async () => {
    const launch = await postgresEngine.clientLaunch(target, 'jit_u', NASTY, '/nonexistent');
    expect(launch.args.join(' ')).not.toContain(NASTY);
    expect(launch.files).toEqual([]);
    expect(launch.env.PGPASSWORD).toBe(NASTY);
  });

  it('lists every variable it sets, and DATABASE_URL, as stale', () => {
    for (const name of Object.keys(postgresEngine.clientEnv(target, 'u', 'p'))) expect(postgresEngine.profile.clientEnvNames).toContain(name);
    for (const name of ['PGSERVICE', 'PGSERVICEFILE', 'PGSYSCONFDIR', 'PGPASSFILE', 'PGHOSTADDR', 'PGOPTIONS', 'PGSSLCERT', 'PGSSLKEY', 'DATABASE_URL']) {
      expect(postgresEngine.profile.clientEnvNames).toContain(name);
    }
    // The user's own harmless settings are kept: they select no other server or identity.
    for (const name of ['PGAPPNAME', 'PGTZ', 'PGDATESTYLE', 'PGCLIENTENCODING', 'PGSSLROOTCERT']) {
      expect(postgresEngine.profile.clientEnvNames).not.toContain(name);
    }
  });
});

describe('adminClientConfig', () => {
  it('maps tls onto node-postgres ssl settings', () => {
    expect(adminClientConfig({ ...target, tls: 'disable' }, 'pw').ssl).toBe(false);
    expect(adminClientConfig({ ...target, tls: 'require' }, 'pw').ssl).toEqual({ rejectUnauthorized: false });
    expect(adminClientConfig({ ...target, tls: 'verify-full' }, 'pw').ssl).toEqual({ rejectUnauthorized: true, servername: 'db.internal' });
    expect(adminClientConfig({ ...target, host: '10.0.0.5', tls: 'verify-full' }, 'pw').ssl).toEqual({ rejectUnauthorized: true });
    expect(adminClientConfig(target, 'pw', 'other')).toMatchObject({ database: 'other', application_name: 'jit', connectionTimeoutMillis: 10_000 });
  });
});

describe('buildUri as node-postgres reads it (pg-connection-string)', () => {
  it('leaves a database name\'s `$` raw: node-postgres decodes the path with decodeURI, which keeps %24', () => {
    const uri = postgresEngine.buildUri({ ...target, database: 'app$x-1' }, 'jit_u', 'pw');
    expect(uri).toBe('postgresql://jit_u:pw@db.internal:5432/app$x-1?sslmode=require');
    expect(parse(uri).database).toBe('app$x-1');
  });

  it('puts a socket directory in ?host= with the port beside it', () => {
    const uri = postgresEngine.buildUri({ ...target, host: '/run/postgresql', tls: 'disable' }, 'jit_u', 'pw');
    expect(uri).toBe('postgresql://jit_u:pw@/app?host=/run/postgresql&port=5432&sslmode=disable');
    expect(parse(uri)).toMatchObject({ host: '/run/postgresql', port: '5432', database: 'app', user: 'jit_u', password: 'pw' });
  });
});

describe('tls_ca and application_name in what is handed out', () => {
  const dir = mkdtempSync(join(tmpdir(), 'jit ca '));
  const caPath = join(dir, "o'neil ca#1.pem");
  writeFileSync(caPath, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
  const withCa: ServerTarget = { ...target, tls: 'verify-full', tlsCa: caPath };

  it('carries the CA as sslrootcert (percent-encoded, slashes kept) and names the lease in application_name', () => {
    const uri = postgresEngine.buildUri(withCa, 'jit_u', 'pw', { leaseId: 'k2m9q4x1z8' });
    expect(uri).toBe(`postgresql://jit_u:pw@db.internal:5432/app?sslmode=verify-full&sslrootcert=${dir.replace(/ /g, '%20')}/o%27neil%20ca%231.pem&application_name=jit-k2m9q4x1z8`);
    expect(new URL(uri).searchParams.get('sslrootcert')).toBe(caPath);
    // node-postgres reads the file named by sslrootcert itself.
    const cfg = parse(uri) as { ssl: { ca: string }; application_name: string };
    expect(cfg.ssl.ca).toContain('BEGIN CERTIFICATE');
    expect(cfg.application_name).toBe('jit-k2m9q4x1z8');
  });

  it('no lease id, no application_name; no tls_ca, no sslrootcert', () => {
    expect(postgresEngine.buildUri(target, 'u', 'p')).toBe('postgresql://u:p@db.internal:5432/app?sslmode=require');
    expect(postgresEngine.clientEnv(target, 'u', 'p')).not.toHaveProperty('PGSSLROOTCERT');
    expect(postgresEngine.clientEnv(target, 'u', 'p')).not.toHaveProperty('PGAPPNAME');
  });

  it('sets PGSSLROOTCERT, and PGAPPNAME unless the user set their own', async () => {
    const env = postgresEngine.clientEnv(withCa, 'u', 'p', { leaseId: 'abc', userEnv: {} });
    expect(env).toMatchObject({ PGSSLROOTCERT: caPath, PGAPPNAME: 'jit-abc', PGSSLMODE: 'verify-full' });
    expect(postgresEngine.clientEnv(withCa, 'u', 'p', { leaseId: 'abc', userEnv: { PGAPPNAME: 'nightly' } })).not.toHaveProperty('PGAPPNAME');
    const launch = await postgresEngine.clientLaunch(withCa, 'u', 'p', dir, { leaseId: 'abc' });
    expect(launch.env).toMatchObject({ PGSSLROOTCERT: caPath, PGAPPNAME: 'jit-abc' });
  });

  it('the admin connection trusts the CA: chain only for require (verify-ca), chain and host for verify-full', () => {
    const full = adminClientConfig(withCa, 'pw').ssl as { ca: string; rejectUnauthorized: boolean; servername: string; checkServerIdentity?: unknown };
    expect(full).toMatchObject({ rejectUnauthorized: true, servername: 'db.internal' });
    expect(full.ca).toContain('BEGIN CERTIFICATE');
    expect(full.checkServerIdentity).toBeUndefined();
    const req = adminClientConfig({ ...withCa, tls: 'require' }, 'pw').ssl as { ca: string; rejectUnauthorized: boolean; checkServerIdentity: () => unknown };
    expect(req.rejectUnauthorized).toBe(true);
    expect(req.ca).toContain('BEGIN CERTIFICATE');
    expect(req.checkServerIdentity()).toBeUndefined();
    expect(adminClientConfig({ ...withCa, tls: 'disable' }, 'pw').ssl).toBe(false);
  });

  it('a CA file gone since the policy was checked is a one-line error naming it', () => {
    expect(() => adminClientConfig({ ...withCa, name: 'prod-db', tlsCa: join(dir, 'gone.pem') }, 'pw')).toThrow(
      `cannot read the CA certificate ${join(dir, 'gone.pem')} (tls_ca of prod-db): ENOENT`,
    );
  });
});

describe('tls_cert and tls_key in what is handed out', () => {
  const dir = mkdtempSync(join(tmpdir(), 'jit cert '));
  const cert = join(dir, 'client#1.crt');
  const key = join(dir, "o'neil.key");
  writeFileSync(cert, '-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----\n');
  writeFileSync(key, '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n', { mode: 0o600 });
  const withCert: ServerTarget = { ...target, tlsCert: cert, tlsKey: key };

  it('carries them as sslcert and sslkey in the URI and PGSSLCERT/PGSSLKEY in the environment', () => {
    const uri = postgresEngine.buildUri(withCert, 'jit_u', 'pw');
    expect(uri).toBe(`postgresql://jit_u:pw@db.internal:5432/app?sslmode=require&sslcert=${dir.replace(/ /g, '%20')}/client%231.crt&sslkey=${dir.replace(/ /g, '%20')}/o%27neil.key`);
    expect(new URL(uri).searchParams.get('sslcert')).toBe(cert);
    expect(new URL(uri).searchParams.get('sslkey')).toBe(key);
    // node-postgres reads both files itself.
    const cfg = parse(uri) as { ssl: { cert: string; key: string } };
    expect(cfg.ssl.cert).toContain('BEGIN CERTIFICATE');
    expect(cfg.ssl.key).toContain('PRIVATE KEY');
    expect(postgresEngine.clientEnv(withCert, 'u', 'p')).toMatchObject({ PGSSLCERT: cert, PGSSLKEY: key });
    expect(postgresEngine.clientEnv(target, 'u', 'p')).not.toHaveProperty('PGSSLCERT');
  });

  it('the admin connection presents them, whatever it checks of the server', () => {
    expect(adminClientConfig(withCert, 'pw').ssl).toEqual({ rejectUnauthorized: false, cert: expect.stringContaining('BEGIN CERTIFICATE'), key: expect.stringContaining('PRIVATE KEY') });
    expect(adminClientConfig({ ...withCert, tls: 'verify-full' }, 'pw').ssl).toMatchObject({ rejectUnauthorized: true, cert: expect.any(String), key: expect.any(String) });
    expect(adminClientConfig({ ...withCert, tls: 'disable' }, 'pw').ssl).toBe(false);
  });

  it('a key file gone since the policy was checked is a one-line error naming it', () => {
    expect(() => adminClientConfig({ ...withCert, name: 'prod-db', tlsKey: join(dir, 'gone.key') }, 'pw')).toThrow(
      `cannot read the client key ${join(dir, 'gone.key')} (tls_key of prod-db): ENOENT`,
    );
  });
});

describe('client files (pgpass, pg_service.conf) and the JDBC URL', () => {
  it('escapes pgpass fields, keeps the password out of the service, and prints the URI without it', async () => {
    const { clientFiles } = await import('./postgres-client-files.js');
    const f = clientFiles({ ...target, database: 'a:b\\c*' }, 'jit_u', 'p:w\\*', { service: 'jit-prod-db-readonly', dir: '/s/clients' });
    expect(f.entries).toEqual([
      { file: 'pgpass', text: 'db.internal:5432:a\\:b\\\\c\\*:jit_u:p\\:w\\\\\\*\n' },
      { file: 'pg_service.conf', slot: 'jit-prod-db-readonly', text: '[jit-prod-db-readonly]\nhost=db.internal\nport=5432\ndbname=a:b\\c*\nuser=jit_u\nsslmode=require\n' },
    ]);
    expect(f.service).toBe('service=jit-prod-db-readonly');
    expect(f.passwordless).toBe('postgresql://jit_u@db.internal:5432/a:b%5Cc*?sslmode=require');
    // libpq matches a socket connection's pgpass line under localhost.
    const sock = clientFiles({ ...target, host: '/run/postgresql', tls: 'disable' }, 'u', 'p', { service: 's', dir: '/d' });
    expect(sock.entries[0]!.text).toBe('localhost:5432:app:u:p\n');
    expect(sock.passwordless).toBe('postgresql://u@/app?host=/run/postgresql&port=5432&sslmode=disable');
  });

  it('builds jdbc:postgresql with user and password as fully encoded parameters, and refuses a socket directory', async () => {
    const { buildJdbcUrl } = await import('./postgres-uri.js');
    expect(buildJdbcUrl({ ...target, tlsCa: '/c/ca.pem' }, 'jit_u', 'a+b&c', { leaseId: 'k2m9q4x1z8' })).toBe(
      'jdbc:postgresql://db.internal:5432/app?user=jit_u&password=a%2Bb%26c&sslmode=require&sslrootcert=%2Fc%2Fca.pem&ApplicationName=jit-k2m9q4x1z8',
    );
    expect(buildJdbcUrl({ ...target, host: '::1' }, 'u', 'p')).toBe('jdbc:postgresql://[::1]:5432/app?user=u&password=p&sslmode=require');
    expect(() => buildJdbcUrl({ ...target, name: 'local', host: '/run/postgresql' }, 'u', 'p')).toThrow('local is reached through the Unix socket directory /run/postgresql, which pgjdbc cannot use');
  });
});
