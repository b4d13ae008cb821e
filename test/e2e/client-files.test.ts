/**
 * The client files GUI clients are pointed at once ($JIT_HOME/clients: pgpass, pg_service.conf,
 * MariaDB option files) and `--format jdbc`, through the real clients that read them: psql with
 * PGSERVICEFILE / PGPASSFILE, pgjdbc (what DBeaver and DataGrip are built on) with the same two
 * files and with the JDBC URL, and `mariadb --defaults-extra-file` and MariaDB Connector/J.
 * Entries come with `jit uri --format service|pgpass` and go with the lease, whichever way it ends.
 */
import { execFile } from 'node:child_process';
import { existsSync, lstatSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usePostgresAndMariadb } from '../helpers/servers.js';
import { makeWorld, testPolicy, waitFor, type JitWorld } from '../helpers/jit-cli.js';
import { mysqlDatabaseEntry } from '../helpers/mysql-cli.js';
import type { UriJson } from './support.js';

const execFileP = promisify(execFile);
const CLEAN_ENV = { PATH: process.env.PATH, HOME: '/nonexistent', LANG: 'C.UTF-8' };
const PROBE = join(dirname(new URL(import.meta.url).pathname), '..', 'fixtures', 'JdbcProbe.java');
const JARS = ['/usr/share/java/postgresql.jar', '/usr/share/java/mariadb-java-client.jar'].join(':');

type Out = { ok: boolean; out: string };
const settle = (p: Promise<{ stdout: string }>): Promise<Out> =>
  p.then(
    (r) => ({ ok: true, out: r.stdout.trim() }),
    (e: { stderr?: string }) => ({ ok: false, out: String(e.stderr ?? e) }),
  );
const psql = (args: string[], env: Record<string, string> = {}) =>
  settle(execFileP('psql', [...args, '-X', '-w', '-Atc', 'SELECT current_user'], { env: { ...CLEAN_ENV, ...env }, timeout: 20_000 }));
const java = (args: string[], env: Record<string, string> = {}) =>
  settle(execFileP('java', ['-cp', JARS, PROBE, ...args], { env: { ...CLEAN_ENV, ...env }, timeout: 60_000 }));

interface FilesJson extends UriJson {
  service: string;
  files: string[];
  passwordless_uri?: string;
  jdbc?: string;
}

describe('client files and JDBC URLs for GUI clients (PostgreSQL 15 and MariaDB, shared servers)', () => {
  const [pg, maria] = usePostgresAndMariadb(15);
  let w: JitWorld;
  let clients: string;
  let pgEnv: Record<string, string>;

  async function mint(args: string[], db = 'testdb'): Promise<FilesJson> {
    const r = await w.run(['uri', db, '--json', ...args]);
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as FilesJson;
  }
  const read = (f: string) => (existsSync(join(clients, f)) ? readFileSync(join(clients, f), 'utf8') : '');

  beforeAll(async () => {
    const policy = testPolicy(pg) + mysqlDatabaseEntry(maria, 'shop', 'JIT_TEST_MARIADB_PW');
    w = await makeWorld(pg, { policy, env: { JIT_TEST_MARIADB_PW: maria.adminPassword } });
    clients = join(w.home, 'clients');
    pgEnv = { PGSERVICEFILE: join(clients, 'pg_service.conf'), PGPASSFILE: join(clients, 'pgpass') };
  });
  afterAll(async () => {
    if (w) {
      // Shared servers: only this file's own leases, never `revoke --all` (other files' logins live there too).
      const mine = JSON.parse((await w.run(['list', '--json'])).stdout || '[]') as Array<{ id: string }>;
      for (const l of mine) await w.run(['revoke', l.id]);
      await w.cleanup();
    }
  });

  it('--format service: psql and pgjdbc reach the login through service=jit-testdb-readonly; the password is only in pgpass; revoke removes both entries', async () => {
    const r = await w.run(['uri', 'testdb', '--role', 'readonly', '--format', 'service']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('service=jit-testdb-readonly\n');
    expect(r.stderr).toContain(`written to ${join(clients, 'pgpass')}, ${join(clients, 'pg_service.conf')}; removed when the lease ends`);
    const id = /lease ([a-z0-9]+):/.exec(r.stderr)![1]!;
    const user = /: (jit_\S+) on testdb/.exec(r.stderr)![1]!;

    expect(statSync(clients).mode & 0o777).toBe(0o700);
    for (const f of ['pgpass', 'pg_service.conf']) expect(statSync(join(clients, f)).mode & 0o777).toBe(0o600);
    const service = read('pg_service.conf');
    expect(service).toContain(`# lease ${id}: ${user} on testdb (readonly)\n[jit-testdb-readonly]\nhost=127.0.0.1\nport=${pg.port}\ndbname=${pg.database}\nuser=${user}\nsslmode=disable\n`);
    expect(service).not.toMatch(/password/);
    expect(read('pgpass')).toMatch(new RegExp(`\\n127\\.0\\.0\\.1:${pg.port}:${pg.database}:${user}:[A-Za-z0-9_-]{32,}\\n`));

    expect(await psql(['service=jit-testdb-readonly'], pgEnv)).toEqual({ ok: true, out: user });
    // pgjdbc reads the same two files (system properties or the same variables).
    expect(await java(['jdbc:postgresql://?service=jit-testdb-readonly', 'SELECT current_user'], pgEnv)).toEqual({ ok: true, out: user });
    // The same through pgjdbc's system properties, as a GUI's JVM options would set them.
    const props = [`-Dorg.postgresql.pgservicefile=${pgEnv.PGSERVICEFILE}`, `-Dorg.postgresql.pgpassfile=${pgEnv.PGPASSFILE}`];
    expect(await settle(execFileP('java', [...props, '-cp', JARS, PROBE, 'jdbc:postgresql://?service=jit-testdb-readonly', 'SELECT current_user'], { env: CLEAN_ENV, timeout: 60_000 }))).toEqual({ ok: true, out: user });
    // Without the pgpass file there is no password anywhere.
    expect((await psql(['service=jit-testdb-readonly'], { PGSERVICEFILE: pgEnv.PGSERVICEFILE! })).ok).toBe(false);

    const rv = await w.run(['revoke', id]);
    expect(rv.code, rv.stderr).toBe(0);
    expect(read('pgpass')).not.toContain(user);
    expect(read('pg_service.conf')).not.toContain(user);
    const gone = await psql(['service=jit-testdb-readonly'], pgEnv);
    expect(gone.ok).toBe(false);
  });

  it('--format pgpass prints the URI without its password; psql with PGPASSFILE gets in', async () => {
    const m = await mint(['--role', 'readonly', '--format', 'pgpass']);
    expect(m.passwordless_uri).toBe(`postgresql://${m.user}@127.0.0.1:${pg.port}/${pg.database}?sslmode=disable`);
    expect(m.files).toEqual([join(clients, 'pgpass'), join(clients, 'pg_service.conf')]);
    expect(await psql([m.passwordless_uri!], { PGPASSFILE: pgEnv.PGPASSFILE! })).toEqual({ ok: true, out: m.user });
    expect((await psql([m.passwordless_uri!])).ok).toBe(false);
    expect((await w.run(['revoke', m.id])).code).toBe(0);
  });

  it('one service per role: the newest lease fills it, an older live one takes it back when the newest is revoked; the last revoke removes the files', async () => {
    const older = await mint(['--role', 'readonly', '--format', 'service']);
    const newer = await mint(['--role', 'readonly', '--format', 'service']);
    const writer = await mint(['--role', 'writer', '--format', 'service']);
    expect(await psql(['service=jit-testdb-readonly'], pgEnv)).toEqual({ ok: true, out: newer.user });
    expect(await psql(['service=jit-testdb-writer'], pgEnv)).toEqual({ ok: true, out: writer.user });
    expect(read('pgpass').split('\n').filter((l) => l.startsWith('127.0.0.1:'))).toHaveLength(3);
    expect((await w.run(['revoke', newer.id])).code).toBe(0);
    expect(await psql(['service=jit-testdb-readonly'], pgEnv)).toEqual({ ok: true, out: older.user });
    for (const id of [older.id, writer.id]) expect((await w.run(['revoke', id])).code).toBe(0);
    expect(existsSync(join(clients, 'pgpass'))).toBe(false);
    expect(existsSync(join(clients, 'pg_service.conf'))).toBe(false);
  });

  it('the reaper takes the entries away at expiry', async () => {
    const m = await mint(['--role', 'short', '--format', 'service']);
    expect(read('pgpass')).toContain(m.user);
    expect(await waitFor(() => !read('pgpass').includes(m.user), 20_000)).toBe(true);
    expect(read('pg_service.conf')).not.toContain('[jit-testdb-short]');
  });

  it('a login dropped outside jit (noticed by jit list) takes its entries away', async () => {
    const dropped = await mint(['--role', 'readonly', '--format', 'service']);
    expect(read('pgpass')).toContain(dropped.user);
    const a = await pg.admin();
    try {
      await a.query(`DROP OWNED BY "${dropped.user}"`);
      await a.query(`DROP ROLE "${dropped.user}"`);
    } finally {
      await a.end();
    }
    const list = await w.run(['list']);
    expect(list.code, list.stderr).toBe(0);
    expect(existsSync(join(clients, 'pgpass'))).toBe(false);
  });

  it('a symlink planted at a client file is replaced, never written through', async () => {
    const victim = join(w.dir, 'victim.txt');
    writeFileSync(victim, 'keep me\n');
    const m1 = await mint(['--role', 'readonly', '--format', 'service']);
    const pgpass = join(clients, 'pgpass');
    rmSync(pgpass);
    symlinkSync(victim, pgpass);
    const m2 = await mint(['--role', 'writer', '--format', 'service']);
    expect(readFileSync(victim, 'utf8')).toBe('keep me\n');
    expect(lstatSync(pgpass).isSymbolicLink()).toBe(false);
    expect(read('pgpass')).toContain(m2.user);
    expect(read('pgpass')).toContain(m1.user);
    for (const id of [m1.id, m2.id]) expect((await w.run(['revoke', id])).code).toBe(0);
  });

  it('--format jdbc: pgjdbc connects with the URL alone, and reads database, user and password back exactly', async () => {
    const m = await mint(['--role', 'readonly', '--format', 'jdbc']);
    expect(m.jdbc).toBe(`jdbc:postgresql://127.0.0.1:${pg.port}/${pg.database}?user=${m.user}&password=${decodeURIComponent(new URL(m.uri).password)}&sslmode=disable&ApplicationName=jit-${m.id}`);
    expect(await java([m.jdbc!, "SELECT current_user || ' ' || current_setting('application_name')"])).toEqual({ ok: true, out: `${m.user} jit-${m.id}` });
    // What pgjdbc decodes from hostile parts (URLDecoder reads + as a space: jit encodes it).
    const { buildJdbcUrl } = await import('../../src/engines/postgres/postgres-uri.js');
    const url = buildJdbcUrl({ engine: 'postgres', host: 'db.internal', port: 5432, database: 'my db+1$x', tls: 'require', adminUser: 'a' }, 'jit_u', 'p+w&d=1%');
    expect(await java(['--parse', url])).toEqual({ ok: true, out: 'PGDBNAME=my db+1$x\nuser=jit_u\npassword=p+w&d=1%\nsslmode=require\nApplicationName=null' });
  });

  it("asyncpg (Debian's) takes jit's URI as it is: sslmode read, application_name sent as a server setting", async () => {
    const m = await mint(['--role', 'readonly']);
    const script = [
      'import asyncio, sys, asyncpg',
      'async def main():',
      '    c = await asyncpg.connect(sys.argv[1])',
      "    print(await c.fetchval(\"SELECT current_user || ' ' || current_setting('application_name')\"))",
      '    await c.close()',
      'asyncio.run(main())',
    ].join('\n');
    const out = await settle(execFileP('/usr/bin/python3', ['-c', script, m.uri], { env: CLEAN_ENV, timeout: 30_000 }));
    expect(out).toEqual({ ok: true, out: `${m.user} jit-${m.id}` });
    expect((await w.run(['revoke', m.id])).code).toBe(0);
  });

  it('MariaDB: --format service writes an option file mariadb reads with --defaults-extra-file; --format jdbc works in MariaDB Connector/J; pgpass is refused before minting', async () => {
    const m = await mint(['--role', 'readonly', '--format', 'service'], 'shop');
    const file = join(clients, 'jit-shop-readonly.cnf');
    expect(m.service).toBe(file);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const cli = await settle(
      execFileP('mariadb', [`--defaults-extra-file=${file}`, '-N', '-B', '-e', 'SELECT CURRENT_USER(), DATABASE()'], { env: CLEAN_ENV, timeout: 20_000 }),
    );
    expect(cli).toEqual({ ok: true, out: `${m.user}@%\t${maria.database}` });
    expect((await w.run(['revoke', m.id])).code).toBe(0);
    expect(existsSync(file)).toBe(false);

    const j = await mint(['--role', 'readonly', '--format', 'jdbc'], 'shop');
    expect(j.jdbc).toMatch(new RegExp(`^jdbc:mysql://127\\.0\\.0\\.1:${maria.port}/${maria.database}\\?user=${j.user}&password=[A-Za-z0-9_-]+&sslMode=DISABLED$`));
    expect(await java([j.jdbc!, 'SELECT CURRENT_USER()'])).toEqual({ ok: true, out: `${j.user}@%` });

    const before = readdirLeases(w.home);
    const p = await w.run(['uri', 'shop', '--role', 'readonly', '--format', 'pgpass']);
    expect(p.code).toBe(2);
    expect(p.stdout).toBe('');
    expect(p.stderr).toBe('error: MySQL/MariaDB clients read no pgpass file\nhint: use --format service: an option file mysql and mariadb read with --defaults-extra-file\n');
    expect(readdirLeases(w.home)).toEqual(before);
  });
});

function readdirLeases(home: string): string[] {
  return existsSync(join(home, 'leases')) ? readdirSync(join(home, 'leases')).sort() : [];
}
