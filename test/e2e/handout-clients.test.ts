/**
 * What jit hands out, taken by the real clients people use: psql (libpq), Debian's psycopg2
 * (libpq again, through Python), node-postgres, mysql2 and the mariadb client. A database whose
 * name needs care in a URI (`app$x-1`), a policy host that is a Unix socket directory, `--only`
 * on a table fed by a sequence, and `revoke` of a login a DBA already dropped.
 */
import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import mysql from 'mysql2/promise';
import { useMariadb, usePostgres } from '../helpers/servers.js';
import { makeWorld, testPolicy, type JitWorld } from '../helpers/jit-cli.js';
import { mysqlDatabaseEntry, uriParts } from '../helpers/mysql-cli.js';
import type { UriJson } from './support.js';

const execFileP = promisify(execFile);
/** Debian's python3 with python3-psycopg2 (apt-get install -y python3-psycopg2), not a pyenv shim. */
const SYSTEM_PYTHON = '/usr/bin/python3';
const CLEAN_ENV = { PATH: process.env.PATH, HOME: '/nonexistent', LANG: 'C.UTF-8' };
const WHO = "SELECT current_user || ' ' || current_database() || ' ' || current_setting('port')";

async function mint(w: JitWorld, db: string, args: string[]): Promise<UriJson> {
  const res = await w.run(['uri', db, ...args, '--json']);
  expect(res.code, `jit uri ${db} ${args.join(' ')} failed: ${res.stderr}`).toBe(0);
  return JSON.parse(res.stdout) as UriJson;
}

/** `user database port` as psql sees the connection, from a URI or (uri null) from env alone. */
async function viaPsql(uri: string | null, env: Record<string, string> = {}): Promise<string> {
  const r = await execFileP('psql', [...(uri ? [uri] : []), '-X', '-Atc', WHO], { env: { ...CLEAN_ENV, ...env }, timeout: 20_000 });
  return r.stdout.trim();
}

async function viaPsycopg2(uri: string | null, env: Record<string, string> = {}): Promise<string> {
  const script = 'import psycopg2, sys\nc = psycopg2.connect(sys.argv[1])\ncur = c.cursor()\ncur.execute(sys.argv[2])\nprint(cur.fetchone()[0])';
  const r = await execFileP(SYSTEM_PYTHON, ['-c', script, uri ?? '', WHO], { env: { ...CLEAN_ENV, ...env }, timeout: 20_000 });
  return r.stdout.trim();
}

/** node-postgres in a child of its own, so that with uri null it reads PG* from a clean environment. */
async function viaNodePg(uri: string | null, env: Record<string, string> = {}): Promise<string> {
  const script = `const pg = require(${JSON.stringify(require_('pg'))});
const c = new pg.Client(process.argv[1] ? { connectionString: process.argv[1] } : {});
c.connect().then(() => c.query(process.argv[2])).then((r) => { console.log(Object.values(r.rows[0])[0]); return c.end(); })
  .catch((e) => { console.error(e.message); process.exit(1); });`;
  const r = await execFileP(process.execPath, ['-e', script, uri ?? '', WHO], { env: { ...CLEAN_ENV, ...env }, timeout: 20_000 });
  return r.stdout.trim();
}

function require_(name: string): string {
  return join(dirname(new URL(import.meta.url).pathname), '..', '..', 'node_modules', name);
}

const CLIENTS = { psql: viaPsql, psycopg2: viaPsycopg2, 'node-postgres': viaNodePg };

describe('PostgreSQL: what jit hands out, through psql, psycopg2 and node-postgres', () => {
  const server = usePostgres(15);
  let w: JitWorld;
  let dollarDb: string;
  let socketDir: string;

  beforeAll(async () => {
    if (!existsSync(SYSTEM_PYTHON)) throw new Error(`${SYSTEM_PYTHON} is missing`);
    dollarDb = `${server.database}$x-1`;
    socketDir = dirname(server.dataDir);
    // The run's PostgreSQL 15 listens on a socket in the directory above its data directory.
    expect(existsSync(join(socketDir, `.s.PGSQL.${server.port}`)), 'the test server has no socket there').toBe(true);
    const boot = await server.admin('postgres');
    try {
      await boot.query(`CREATE DATABASE "${dollarDb}"`);
    } finally {
      await boot.end();
    }
    const d = await server.admin(dollarDb);
    try {
      await d.query('CREATE TABLE things (id int); INSERT INTO things VALUES (7)');
    } finally {
      await d.end();
    }
    const a = await server.admin();
    try {
      await a.query('CREATE TABLE tickets (id serial PRIMARY KEY, title text)');
    } finally {
      await a.end();
    }
    const policy = `${testPolicy(server)}
      ticket_writer:
        grants:
          - privileges: [SELECT, INSERT]
            tables: [public.tickets, public.orders]
          - privileges: [USAGE]
            sequences: [public.tickets_id_seq]
  dollar:
    engine: postgres
    host: 127.0.0.1
    port: ${server.port}
    database: ${dollarDb}
    tls: disable
    admin:
      user: postgres
      password: env:JIT_TEST_ADMIN_PW
    roles:
      reader:
        grants:
          - privileges: [SELECT]
            tables: [public.things]
  sock:
    engine: postgres
    host: ${socketDir}
    port: ${server.port}
    database: ${server.database}
    tls: disable
    admin:
      user: postgres
      password: env:JIT_TEST_ADMIN_PW
    roles:
      readonly:
        grants:
          - privileges: [SELECT]
            tables: [public.orders]
`;
    w = await makeWorld(server, { policy });
  });

  afterAll(async () => {
    if (w) for (const l of JSON.parse((await w.run(['list', '--json'])).stdout || '[]') as Array<{ id: string }>) await w.run(['revoke', l.id]);
    await w?.cleanup();
    if (dollarDb) {
      const boot = await server.admin('postgres');
      await boot.query(`DROP DATABASE IF EXISTS "${dollarDb}" WITH (FORCE)`).finally(() => boot.end());
    }
  });

  it('a database named app$x-1 is reached by every client through the URI, and through jit exec', async () => {
    const m = await mint(w, 'dollar', ['--role', 'reader']);
    // `$` is a sub-delim, allowed raw in a path segment: node-postgres reads `%24` literally.
    expect(m.uri).toContain(`:${server.port}/${dollarDb}?sslmode=disable`);
    for (const [name, client] of Object.entries(CLIENTS)) {
      expect(await client(m.uri), name).toBe(`${m.user} ${dollarDb} ${server.port}`);
    }
    const things = await execFileP('psql', [m.uri, '-X', '-Atc', 'SELECT id FROM things'], { env: CLEAN_ENV });
    expect(things.stdout.trim()).toBe('7');
    // exec's child gets DATABASE_URL (read by node-postgres) and PGDATABASE (read by psql).
    const script = `const pg = require(${JSON.stringify(require_('pg'))}); const c = new pg.Client({ connectionString: process.env.DATABASE_URL });
c.connect().then(() => c.query('SELECT current_database() AS d')).then((r) => { console.log(r.rows[0].d); return c.end(); }).catch((e) => { console.error(e.message); process.exit(1); });`;
    const viaExec = await w.run(['exec', 'dollar', '--role', 'reader', '--', process.execPath, '-e', script]);
    expect(viaExec.code, viaExec.stderr).toBe(0);
    expect(viaExec.stdout.trim()).toBe(dollarDb);
    const psqlExec = await w.run(['exec', 'dollar', '--role', 'reader', '--', 'psql', '-X', '-Atc', 'SELECT current_database()']);
    expect(psqlExec.code, psqlExec.stderr).toBe(0);
    expect(psqlExec.stdout.trim()).toBe(dollarDb);
  });

  it('a socket directory as host: the URI (?host=) and the env form reach that server with every client', async () => {
    const m = await mint(w, 'sock', ['--role', 'readonly']);
    expect(m.uri).toMatch(new RegExp(`^postgresql://${m.user}:[^@]+@/${server.database}\\?host=${socketDir}&port=${server.port}&sslmode=disable&application_name=jit-${m.id}$`));
    const expected = `${m.user} ${server.database} ${server.port}`;
    for (const [name, client] of Object.entries(CLIENTS)) expect(await client(m.uri), name).toBe(expected);

    const env = await w.run(['env', 'sock', '--role', 'readonly', '--format', 'json']);
    expect(env.code, env.stderr).toBe(0);
    const vars = (JSON.parse(env.stdout) as { env: Record<string, string> }).env;
    expect(vars.PGHOST).toBe(socketDir);
    const user = vars.PGUSER!;
    const pgEnv = Object.fromEntries(Object.entries(vars).filter(([k]) => k.startsWith('PG')));
    for (const [name, client] of Object.entries(CLIENTS)) {
      expect(await client(null, pgEnv), `${name} from PG* variables`).toBe(`${user} ${server.database} ${server.port}`);
      expect(await client(vars.DATABASE_URL!), `${name} from DATABASE_URL`).toBe(`${user} ${server.database} ${server.port}`);
    }
  });

  it('refuses a socket host with TLS, saying why and what to write', async () => {
    const file = join(w.dir, 'socket-tls.yaml');
    writeFileSync(file, testPolicy(server).replace('host: 127.0.0.1', `host: ${socketDir}`).replace(/^ *tls: disable\n/m, ''));
    const r = await w.run(['policy', 'check', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`a Unix socket carries no TLS, so tls: require cannot hold for ${socketDir}`);
    expect(r.stderr).toMatch(/hint: add tls: disable/);
  });

  it('--only tickets keeps the sequence grant: INSERT works; the sequence can be named in --only', async () => {
    for (const only of ['tickets', 'tickets,tickets_id_seq']) {
      const m = await mint(w, 'testdb', ['--role', 'ticket_writer', '--only', only]);
      const c = new pg.Client({ connectionString: m.uri });
      await c.connect();
      try {
        const r = await c.query<{ id: number }>("INSERT INTO tickets (title) VALUES ('printer on fire') RETURNING id");
        expect(r.rows[0]!.id).toBeGreaterThan(0);
        // Narrowed: the role's other table is out of reach.
        await expect(c.query('SELECT * FROM orders')).rejects.toThrow(/permission denied/);
      } finally {
        await c.end();
      }
    }
    const refused = await w.run(['uri', 'testdb', '--role', 'readonly', '--only', 'tickets_id_seq']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('table "public.tickets_id_seq" is not in role "readonly"');
  });

  it('revoke of a login a DBA already dropped says it was already gone, in text and --json, exit 0', async () => {
    for (const json of [false, true]) {
      const m = await mint(w, 'testdb', ['--role', 'readonly']);
      const a = await server.admin();
      try {
        await a.query(`DROP OWNED BY "${m.user}"; DROP ROLE "${m.user}"`);
      } finally {
        await a.end();
      }
      const r = await w.run(['revoke', m.id, ...(json ? ['--json'] : [])]);
      expect(r.code, r.stderr).toBe(0);
      if (json) {
        expect(JSON.parse(r.stdout)).toEqual([{ database: 'testdb', login: m.user, ok: true, terminated: 0, alreadyGone: true }]);
      } else {
        expect(r.stderr).toContain(`${m.user} on testdb was already gone`);
        expect(r.stderr).not.toContain(`revoked ${m.user}`);
      }
    }
  });
});

describe('MariaDB: what jit hands out, through mysql2 and the mariadb client', () => {
  const server = useMariadb();
  let w: JitWorld;
  let dollarDb: string;
  const id = (s: string) => '`' + s.replace(/`/g, '``') + '`';

  beforeAll(async () => {
    dollarDb = `${server.database}$x-1`;
    const root = await server.admin();
    try {
      await root.query(`CREATE DATABASE ${id(dollarDb)}; CREATE TABLE ${id(dollarDb)}.things (id int); INSERT INTO ${id(dollarDb)}.things VALUES (7)`);
      await root.query(`GRANT SELECT ON ${id(dollarDb)}.* TO ${id(server.adminUser)}@'%' WITH GRANT OPTION`);
    } finally {
      await root.end();
    }
    const entry = mysqlDatabaseEntry({ ...server, database: dollarDb }, 'dollar').replace(/tables: \[orders, customers\]/, 'tables: [things]');
    w = await makeWorld(server, { policy: `version: 1\ndatabases:\n${mysqlDatabaseEntry(server)}${entry}` });
  });

  afterAll(async () => {
    if (w) for (const l of JSON.parse((await w.run(['list', '--json'])).stdout || '[]') as Array<{ id: string }>) await w.run(['revoke', l.id]);
    await w?.cleanup();
    if (dollarDb) {
      const root = await server.admin();
      try {
        await root.query(`REVOKE ALL PRIVILEGES, GRANT OPTION ON ${id(dollarDb)}.* FROM ${id(server.adminUser)}@'%'`).catch(() => {});
        await root.query(`DROP DATABASE IF EXISTS ${id(dollarDb)}`);
      } finally {
        await root.end();
      }
    }
  });

  it('a database named app$x-1 is reached by mysql2 through the URI and by the mariadb client by its parts', async () => {
    const m = await mint(w, 'dollar', ['--role', 'readonly']);
    expect(m.uri).toMatch(new RegExp(`:${server.port}/${dollarDb.replace(/\$/g, '\\$')}$`));
    const c = await mysql.createConnection(m.uri);
    try {
      const [rows] = await c.query('SELECT DATABASE() AS d, (SELECT id FROM things) AS t');
      expect(rows).toEqual([{ d: dollarDb, t: 7 }]);
    } finally {
      await c.end();
    }
    const p = uriParts(m.uri);
    const r = await execFileP('mariadb', ['--protocol=TCP', '-h', p.host, '-P', String(p.port), '-u', p.user, '-N', '-B', '-e', 'SELECT DATABASE()', p.database], {
      env: { ...CLEAN_ENV, MYSQL_PWD: p.password },
      timeout: 20_000,
    });
    expect(r.stdout.trim()).toBe(dollarDb);
  });

  it('refuses a socket path as host, naming what to write', async () => {
    const file = join(w.dir, 'socket.yaml');
    writeFileSync(file, `version: 1\ndatabases:\n${mysqlDatabaseEntry(server).replace('host: 127.0.0.1', `host: ${server.socket}`)}`);
    const r = await w.run(['policy', 'check', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('MySQL/MariaDB logins are handed out over TCP: a Unix socket path cannot be the host');
    expect(r.stderr).toContain('hint: ');
  });

  it('revoke of an account a DBA already dropped says it was already gone, exit 0', async () => {
    const m = await mint(w, 'testdb', ['--role', 'readonly']);
    const root = await server.admin();
    try {
      await root.query(`DROP USER ${id(m.user)}@'%'`);
    } finally {
      await root.end();
    }
    const r = await w.run(['revoke', m.id]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`${m.user} on testdb was already gone`);
  });
});
