/**
 * TLS against a real PostgreSQL 15 whose certificate a private CA signed (made with openssl
 * here), through the real clients: psql (libpq) and node-postgres. `tls_ca` makes verify-full
 * work for jit's admin connection and for every hand-out (sslrootcert in the URI, PGSSLROOTCERT);
 * `application_name` names the lease in pg_stat_activity; and what `tls: require` means for
 * node-postgres, as the README says.
 */
import { execFile, execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usePostgres } from '../helpers/servers.js';
import { makeWorld, testPolicy, type JitWorld } from '../helpers/jit-cli.js';
import type { UriJson } from './support.js';

const execFileP = promisify(execFile);
/** No ~/.postgresql/root.crt, no PG* variables: only what jit hands out counts. */
const CLEAN_ENV = { PATH: process.env.PATH, HOME: '/nonexistent', LANG: 'C.UTF-8' };
const PG_MODULE = join(dirname(new URL(import.meta.url).pathname), '..', '..', 'node_modules', 'pg');
const WHO = "SELECT current_user || ' ' || current_setting('application_name') || ' ' || (SELECT ssl::text FROM pg_stat_ssl WHERE pid = pg_backend_pid())";

const certs = mkdtempSync(join(tmpdir(), 'jit-tls-ca-'));
function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: certs, stdio: 'ignore' });
}

/** psql with a URI in a clean environment: `user application_name ssl`, or the error. */
async function psql(uri: string, env: Record<string, string> = {}): Promise<{ ok: boolean; out: string }> {
  return execFileP('psql', [uri, '-X', '-Atc', WHO], { env: { ...CLEAN_ENV, ...env }, timeout: 20_000 }).then(
    (r) => ({ ok: true, out: r.stdout.trim() }),
    (e: { stderr?: string }) => ({ ok: false, out: String(e.stderr ?? e) }),
  );
}

/** node-postgres (npm pg) with `{ connectionString: uri }`, as knex, kysely, drizzle and pg-promise pass it. */
async function nodePg(uri: string, extra: object = {}): Promise<{ ok: boolean; out: string }> {
  const script = `const pg = require(${JSON.stringify(PG_MODULE)});
const c = new pg.Client({ connectionString: process.argv[1], ...${JSON.stringify(extra)} });
c.connect().then(() => c.query(process.argv[2])).then((r) => { console.log(Object.values(r.rows[0])[0]); return c.end(); })
  .catch((e) => { console.error(e.message); process.exit(1); });`;
  return execFileP(process.execPath, ['--no-warnings', '-e', script, uri, WHO], { env: CLEAN_ENV, timeout: 20_000 }).then(
    (r) => ({ ok: true, out: r.stdout.trim() }),
    (e: { stderr?: string }) => ({ ok: false, out: String(e.stderr ?? e) }),
  );
}

describe('PostgreSQL with a private CA: tls_ca, tls: require and application_name through psql and node-postgres', () => {
  // Exclusive: ssl and the server's certificate are the server's, not this file's.
  const pg = usePostgres(15, { exclusive: true });
  let w: JitWorld;

  const policy = (tls: string, ca?: string) => testPolicy(pg).replace('tls: disable', `tls: ${tls}${ca ? `\n    tls_ca: ${ca}` : ''}`);
  async function mint(text: string, extra: string[] = []): Promise<UriJson> {
    await writeFile(join(w.dir, 'jit.yaml'), text);
    const r = await w.run(['uri', 'testdb', '--role', 'readonly', '--json', ...extra]);
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as UriJson;
  }

  beforeAll(async () => {
    openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=jit test private CA');
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
    writeFileSync(join(certs, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
    openssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'ext.cnf');
    await writeFile(join(pg.dataDir, 'server.crt'), await readFile(join(certs, 'server.crt')));
    await writeFile(join(pg.dataDir, 'server.key'), await readFile(join(certs, 'server.key')), { mode: 0o600 });
    if (process.getuid?.() === 0) execFileSync('chown', ['postgres:postgres', join(pg.dataDir, 'server.crt'), join(pg.dataDir, 'server.key')]);
    await pg.configure({ ssl: 'on' });
    w = await makeWorld(pg);
    // The policy names its CA relative to itself.
    mkdirSync(join(w.dir, 'certs'));
    cpSync(join(certs, 'ca.pem'), join(w.dir, 'certs', 'ca.pem'));
  });
  afterAll(async () => {
    if (w) {
      await w.run(['revoke', '--all', '--yes']);
      await w.cleanup();
    }
    rmSync(certs, { recursive: true, force: true });
  });

  it('without tls_ca, verify-full cannot reach a server a private CA signed', async () => {
    await writeFile(join(w.dir, 'jit.yaml'), policy('verify-full'));
    const r = await w.run(['uri', 'testdb', '--role', 'readonly']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
  });

  it('tls: verify-full with tls_ca: the admin connection, psql and node-postgres all verify against the CA; the lease is named', async () => {
    const m = await mint(policy('verify-full', 'certs/ca.pem'));
    const ca = join(w.dir, 'certs', 'ca.pem');
    const url = new URL(m.uri);
    expect(url.searchParams.get('sslmode')).toBe('verify-full');
    expect(url.searchParams.get('sslrootcert')).toBe(ca);
    expect(url.searchParams.get('application_name')).toBe(`jit-${m.id}`);
    expect(await psql(m.uri)).toEqual({ ok: true, out: `${m.user} jit-${m.id} true` });
    expect(await nodePg(m.uri)).toEqual({ ok: true, out: `${m.user} jit-${m.id} true` });
    // Revocation goes through the lease's target, CA included.
    const rv = await w.run(['revoke', m.id]);
    expect(rv.code, rv.stderr).toBe(0);
    expect((await psql(m.uri)).ok).toBe(false);
  });

  it('jit env carries PGSSLROOTCERT and PGAPPNAME; exec keeps the user’s own PGAPPNAME', async () => {
    await writeFile(join(w.dir, 'jit.yaml'), policy('verify-full', 'certs/ca.pem'));
    const env = await w.run(['env', 'testdb', '--role', 'readonly', '--format', 'json']);
    expect(env.code, env.stderr).toBe(0);
    const o = JSON.parse(env.stdout) as { id: string; env: Record<string, string> };
    expect(o.env).toMatchObject({ PGSSLMODE: 'verify-full', PGSSLROOTCERT: join(w.dir, 'certs', 'ca.pem'), PGAPPNAME: `jit-${o.id}` });
    // psql from the PG* variables alone verifies against the CA.
    const pgVars = Object.fromEntries(Object.entries(o.env).filter(([k]) => k.startsWith('PG')));
    const fromEnv = await execFileP('psql', ['-X', '-Atc', WHO], { env: { ...CLEAN_ENV, ...pgVars }, timeout: 20_000 });
    expect(fromEnv.stdout.trim()).toBe(`${o.env.PGUSER} jit-${o.id} true`);

    const named = await w.run(['exec', 'testdb', '--role', 'readonly', '--', 'psql', '-X', '-Atc', WHO]);
    expect(named.code, named.stderr).toBe(0);
    expect(named.stdout.trim()).toMatch(/^jit_\S+ jit-[a-z0-9]{10} true$/);
    const mine = await w.run(['exec', 'testdb', '--role', 'readonly', '--', 'psql', '-X', '-Atc', WHO], { env: { PGAPPNAME: 'nightly-report' } });
    expect(mine.code, mine.stderr).toBe(0);
    expect(mine.stdout.trim()).toMatch(/^jit_\S+ nightly-report true$/);
  });

  it('tls: require without a CA: psql takes the URI; node-postgres reads require as verify-full and needs uselibpqcompat=true, which libpq refuses', async () => {
    const m = await mint(policy('require'));
    expect(new URL(m.uri).searchParams.get('sslmode')).toBe('require');
    expect(await psql(m.uri)).toEqual({ ok: true, out: `${m.user} jit-${m.id} true` });
    const plain = await nodePg(m.uri);
    expect(plain.ok).toBe(false);
    expect(plain.out).toMatch(/certificate/);
    // The URI's sslmode replaces an ssl object given beside it.
    expect((await nodePg(m.uri, { ssl: { rejectUnauthorized: false } })).ok).toBe(false);
    // The README's advice for node-postgres clients.
    expect(await nodePg(`${m.uri}&uselibpqcompat=true`)).toEqual({ ok: true, out: `${m.user} jit-${m.id} true` });
    // Why jit cannot hand that form to everyone: libpq (psql, psycopg, ruby-pg…) refuses it.
    const libpq = await psql(`${m.uri}&uselibpqcompat=true`);
    expect(libpq.ok).toBe(false);
    expect(libpq.out).toContain('uselibpqcompat');
  });

  it('tls: require with tls_ca: the same URI works in psql and node-postgres', async () => {
    const m = await mint(policy('require', join(w.dir, 'certs', 'ca.pem')));
    expect(new URL(m.uri).searchParams.get('sslrootcert')).toBe(join(w.dir, 'certs', 'ca.pem'));
    expect(await psql(m.uri)).toEqual({ ok: true, out: `${m.user} jit-${m.id} true` });
    expect(await nodePg(m.uri)).toEqual({ ok: true, out: `${m.user} jit-${m.id} true` });
  });

  it('policy check refuses a tls_ca that does not exist (exit 2), naming the resolved path', async () => {
    const file = join(w.dir, 'bad.yaml');
    writeFileSync(file, policy('verify-full', 'certs/missing.pem'));
    const r = await w.run(['policy', 'check', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`databases.testdb.tls_ca: ${join(w.dir, 'certs', 'missing.pem')} does not exist`);
    expect(r.stderr).toMatch(/hint: .*relative to the policy file/);
  });
});
