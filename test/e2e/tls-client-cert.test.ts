/**
 * Client certificates against a real PostgreSQL 15 that asks every login over TCP for one
 * (`hostssl … clientcert=verify-ca`, a private CA made with openssl here): the policy's
 * `tls_cert`/`tls_key` reach jit's own admin connection, the URI (sslcert=, sslkey=) and the
 * environment (PGSSLCERT, PGSSLKEY), and the real clients, psql and node-postgres, get in with them.
 */
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usePostgres } from '../helpers/servers.js';
import { makeWorld, testPolicy, waitFor, type JitWorld } from '../helpers/jit-cli.js';
import { reaperPid, type UriJson } from './support.js';

const execFileP = promisify(execFile);
/** No ~/.postgresql/postgresql.crt, no PG* variables: only what jit hands out counts. */
const CLEAN_ENV = { PATH: process.env.PATH, HOME: '/nonexistent', LANG: 'C.UTF-8' };
const PG_MODULE = join(dirname(new URL(import.meta.url).pathname), '..', '..', 'node_modules', 'pg');
const WHO = "SELECT current_user || ' ' || (SELECT ssl::text || ' ' || client_dn FROM pg_stat_ssl WHERE pid = pg_backend_pid())";
const ADMIN = 'certadmin';
const PROBE = join(dirname(new URL(import.meta.url).pathname), '..', 'fixtures', 'JdbcProbe.java');
const JARS = ['/usr/share/java/postgresql.jar', '/usr/share/java/mariadb-java-client.jar'].join(':');

const certs = mkdtempSync(join(tmpdir(), 'jit-client-cert-'));
function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: certs, stdio: 'ignore' });
}

async function psql(uri: string[], env: Record<string, string> = {}): Promise<{ ok: boolean; out: string }> {
  return execFileP('psql', [...uri, '-X', '-Atc', WHO], { env: { ...CLEAN_ENV, ...env }, timeout: 20_000 }).then(
    (r) => ({ ok: true, out: r.stdout.trim() }),
    (e: { stderr?: string }) => ({ ok: false, out: String(e.stderr ?? e) }),
  );
}

async function nodePg(uri: string): Promise<{ ok: boolean; out: string }> {
  const script = `const pg = require(${JSON.stringify(PG_MODULE)});
const c = new pg.Client({ connectionString: process.argv[1] });
c.connect().then(() => c.query(process.argv[2])).then((r) => { console.log(Object.values(r.rows[0])[0]); return c.end(); })
  .catch((e) => { console.error(e.message); process.exit(1); });`;
  return execFileP(process.execPath, ['--no-warnings', '-e', script, uri, WHO], { env: CLEAN_ENV, timeout: 20_000 }).then(
    (r) => ({ ok: true, out: r.stdout.trim() }),
    (e: { stderr?: string }) => ({ ok: false, out: String(e.stderr ?? e) }),
  );
}

describe('PostgreSQL asking every login for a client certificate: tls_cert and tls_key through jit, psql and node-postgres', () => {
  // Exclusive: ssl, the CA the server trusts and pg_hba.conf are the server's, not this file's.
  const pg = usePostgres(15, { exclusive: true });
  let w: JitWorld;
  const withCert = (extra = '    tls_cert: certs/client.crt\n    tls_key: certs/client.key') =>
    testPolicy(pg).replace('user: postgres', `user: ${ADMIN}`).replace('tls: disable', `tls: verify-full\n    tls_ca: certs/ca.pem${extra ? `\n${extra}` : ''}`);
  async function mint(text: string, args: string[] = []): Promise<UriJson & { env?: Record<string, string> }> {
    await writeFile(w.policyFile, text);
    const r = await w.run([args.includes('env') ? 'env' : 'uri', 'testdb', '--role', 'readonly', '--json', ...args.filter((a) => a !== 'env')]);
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as UriJson;
  }

  beforeAll(async () => {
    openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=jit test client CA');
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
    writeFileSync(join(certs, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1\n');
    openssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'ext.cnf');
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'client.key', '-out', 'client.csr', '-subj', '/CN=jit laptop');
    openssl('x509', '-req', '-in', 'client.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'client.crt', '-days', '2');
    await writeFile(join(pg.dataDir, 'server.crt'), await readFile(join(certs, 'server.crt')));
    await writeFile(join(pg.dataDir, 'server.key'), await readFile(join(certs, 'server.key')), { mode: 0o600 });
    await writeFile(join(pg.dataDir, 'root.crt'), await readFile(join(certs, 'ca.pem')));
    if (process.getuid?.() === 0) execFileSync('chown', ['postgres:postgres', ...['server.crt', 'server.key', 'root.crt'].map((f) => join(pg.dataDir, f))]);
    const a = await pg.admin();
    try {
      await a.query(`CREATE ROLE ${ADMIN} LOGIN SUPERUSER PASSWORD '${pg.adminPassword.replace(/'/g, "''")}'`);
    } finally {
      await a.end();
    }
    await pg.configure({ ssl: 'on', ssl_ca_file: 'root.crt' });
    // The test's own superuser (postgres) keeps its way in; every other login over TCP needs TLS,
    // a certificate the CA signed, and its password.
    await pg.editHba((hba) =>
      ['host all postgres 127.0.0.1/32 scram-sha-256', 'hostssl all all 127.0.0.1/32 scram-sha-256 clientcert=verify-ca', 'host all all 127.0.0.1/32 reject', hba].join('\n'),
    );
    w = await makeWorld(pg, { policy: withCert() });
    mkdirSync(join(w.dir, 'certs'));
    for (const f of ['ca.pem', 'client.crt', 'client.key']) cpSync(join(certs, f), join(w.dir, 'certs', f));
    chmodSync(join(w.dir, 'certs', 'client.key'), 0o600);
  });
  afterAll(async () => {
    if (w) {
      await writeFile(w.policyFile, withCert());
      await w.run(['revoke', '--all', '--yes']);
      await w.cleanup();
    }
    rmSync(certs, { recursive: true, force: true });
  });

  it('without tls_cert, jit’s own admin connection is refused and nothing is handed out', async () => {
    await writeFile(w.policyFile, withCert(''));
    const r = await w.run(['uri', 'testdb', '--role', 'readonly']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      `error: admin login to 127.0.0.1:${pg.port} as ${ADMIN} was refused: connection requires a valid client certificate\nhint: the server asks for a client certificate: give the database tls_cert and tls_key in the policy\n`,
    );
  });

  it('with tls_cert and tls_key: the URI carries sslcert and sslkey, psql and node-postgres get in, and revoke goes through the certificate too', async () => {
    const m = await mint(withCert());
    const url = new URL(m.uri);
    expect(url.searchParams.get('sslcert')).toBe(join(w.dir, 'certs', 'client.crt'));
    expect(url.searchParams.get('sslkey')).toBe(join(w.dir, 'certs', 'client.key'));
    expect(await psql([m.uri])).toEqual({ ok: true, out: `${m.user} true /CN=jit laptop` });
    expect(await nodePg(m.uri)).toEqual({ ok: true, out: `${m.user} true /CN=jit laptop` });
    // The same login without the certificate is refused by the server.
    url.searchParams.delete('sslcert');
    url.searchParams.delete('sslkey');
    const bare = await psql([url.toString()]);
    expect(bare.ok).toBe(false);
    expect(bare.out).toContain('certificate');
    const rv = await w.run(['revoke', m.id]);
    expect(rv.code, rv.stderr).toBe(0);
    expect((await psql([m.uri])).ok).toBe(false);
  });

  it('--format service: the pg_service.conf section carries sslrootcert, sslcert and sslkey, and psql gets in through it alone', async () => {
    await writeFile(w.policyFile, withCert());
    const r = await w.run(['uri', 'testdb', '--role', 'readonly', '--format', 'service', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const m = JSON.parse(r.stdout) as UriJson & { service: string };
    expect(m.service).toBe('service=jit-testdb-readonly');
    const clients = join(w.home, 'clients');
    const section = await readFile(join(clients, 'pg_service.conf'), 'utf8');
    expect(section).toContain(
      `sslmode=verify-full\nsslrootcert=${join(w.dir, 'certs', 'ca.pem')}\nsslcert=${join(w.dir, 'certs', 'client.crt')}\nsslkey=${join(w.dir, 'certs', 'client.key')}\n`,
    );
    const env = { PGSERVICEFILE: join(clients, 'pg_service.conf'), PGPASSFILE: join(clients, 'pgpass') };
    expect(await psql([m.service, '-w'], env)).toEqual({ ok: true, out: `${m.user} true /CN=jit laptop` });
    expect((await w.run(['revoke', m.id])).code).toBe(0);
  });

  it('--format jdbc: pgjdbc verifies the server against tls_ca and presents the certificate once its key is PKCS-8 DER, as README says', async () => {
    const key = join(w.dir, 'certs', 'client.key');
    const pk8 = join(w.dir, 'certs', 'client.pk8');
    execFileSync('openssl', ['pkcs8', '-topk8', '-inform', 'PEM', '-outform', 'DER', '-nocrypt', '-in', key, '-out', pk8]);
    await writeFile(w.policyFile, withCert());
    const r = await w.run(['uri', 'testdb', '--role', 'readonly', '--format', 'jdbc', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const m = JSON.parse(r.stdout) as UriJson & { jdbc: string };
    const enc = (p: string) => encodeURIComponent(p);
    expect(m.jdbc).toContain(`&sslmode=verify-full&sslrootcert=${enc(join(w.dir, 'certs', 'ca.pem'))}&sslcert=${enc(join(w.dir, 'certs', 'client.crt'))}&sslkey=${enc(key)}&`);
    const java = (url: string) =>
      execFileP('java', ['-cp', JARS, PROBE, url, "SELECT current_user || ' ' || (SELECT client_dn FROM pg_stat_ssl WHERE pid = pg_backend_pid())"], { env: CLEAN_ENV, timeout: 60_000 }).then(
        (o) => ({ ok: true, out: o.stdout.trim() }),
        (e: { stderr?: string }) => ({ ok: false, out: String(e.stderr ?? e) }),
      );
    // The PEM key as the policy names it: pgjdbc cannot read it.
    expect((await java(m.jdbc)).ok).toBe(false);
    expect(await java(m.jdbc.replace(`sslkey=${enc(key)}`, `sslkey=${enc(pk8)}`))).toEqual({ ok: true, out: `${m.user} /CN=jit laptop` });
    expect((await w.run(['revoke', m.id])).code).toBe(0);
  });

  it('revoke --all (this exclusive server\'s every jit login) takes the client-file entries away too', async () => {
    await writeFile(w.policyFile, withCert());
    const r = await w.run(['uri', 'testdb', '--role', 'readonly', '--format', 'service']);
    expect(r.code, r.stderr).toBe(0);
    const pgpass = join(w.home, 'clients', 'pgpass');
    expect(existsSync(pgpass)).toBe(true);
    const all = await w.run(['revoke', '--all', '--yes']);
    expect(all.code, all.stderr).toBe(0);
    expect(existsSync(pgpass)).toBe(false);
    expect(existsSync(join(w.home, 'clients', 'pg_service.conf'))).toBe(false);
  });

  it('jit reap with no reaper running takes an expired lease\'s entries away (server-wide, so here on the exclusive server)', async () => {
    await writeFile(w.policyFile, withCert());
    const noReaper = { env: { JIT_NO_REAPER: '1' } };
    expect(await waitFor(async () => (await reaperPid(w.home)) === null, 15_000)).toBe(true);
    const r = await w.run(['uri', 'testdb', '--role', 'short', '--format', 'service', '--json'], noReaper);
    expect(r.code, r.stderr).toBe(0);
    const m = JSON.parse(r.stdout) as UriJson;
    const pgpass = join(w.home, 'clients', 'pgpass');
    expect(await readFile(pgpass, 'utf8')).toContain(m.user);
    expect(await waitFor(() => Date.now() > Date.parse(m.expires_at) + 1_000, 15_000)).toBe(true);
    expect(await reaperPid(w.home)).toBeNull();
    const reap = await w.run(['reap'], noReaper);
    expect(reap.code, reap.stderr).toBe(0);
    expect(reap.stderr).toContain(`reaped ${m.user} on testdb`);
    expect(existsSync(pgpass)).toBe(false);
  });

  it('jit env carries PGSSLCERT and PGSSLKEY, which psql reads alone; jit exec hands them to the child', async () => {
    const o = (await mint(withCert(), ['env', '--format', 'json'])) as unknown as { id: string; env: Record<string, string> };
    expect(o.env).toMatchObject({ PGSSLCERT: join(w.dir, 'certs', 'client.crt'), PGSSLKEY: join(w.dir, 'certs', 'client.key') });
    const pgVars = Object.fromEntries(Object.entries(o.env).filter(([k]) => k.startsWith('PG')));
    expect(await psql([], pgVars)).toEqual({ ok: true, out: `${o.env.PGUSER} true /CN=jit laptop` });
    const ex = await w.run(['exec', 'testdb', '--role', 'readonly', '--', 'psql', '-X', '-Atc', WHO], { env: { HOME: '/nonexistent' } });
    expect(ex.code, ex.stderr).toBe(0);
    expect(ex.stdout.trim()).toMatch(/^jit_\S+ true \/CN=jit laptop$/);
  });
});
