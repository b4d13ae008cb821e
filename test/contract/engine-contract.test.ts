/**
 * The contract (DESIGN §1–3) on every real engine: PostgreSQL 15, PostgreSQL 18 and MariaDB 10.11
 * run the same cases, through the built CLI and, where the CLI cannot see something (grants on
 * names a policy refuses, the server's own expiry), through the engine's AdminSession.
 *
 * The adapters below carry what differs between engines and nothing else: how to open the scope
 * and make the admin, the client driver, the SQL of a long query, identifier quoting, where the
 * server keeps a login's expiry, and the error codes. The cases never ask which engine they run on.
 *
 * Admins are never superusers: each scope's admin is made by `jit admin bootstrap testdb --apply`
 * for this file's policy, as a DBA would make it (test/helpers/bootstrap-admin.ts), holding only
 * what bootstrap gives plus grantable SELECT on the hostile-name tables no policy may name.
 * Scopes are shared: the server may hold other files' logins, so listings are compared on this
 * scope's requester.
 */
import { describe, beforeAll, expect, it } from 'vitest';
import pg from 'pg';
import mysql from 'mysql2/promise';
import type { AdminSession, Engine, LeaseMarker, ServerTarget } from '../../src/engines/engine.js';
import type { EngineName } from '../../src/policy/types.js';
import { loadEngine } from '../../src/engines/registry.js';
import { generatePassword, randomLowerAlnum } from '../../src/core/random.js';
import { useMariadb, usePostgres } from '../helpers/servers.js';
import { bootstrapMariadbAdmin, bootstrapPgAdmin, type BootstrapAdmin } from '../helpers/bootstrap-admin.js';
import { makeWorld, waitFor, type JitWorld, type RunResult } from '../helpers/jit-cli.js';

type Row = Record<string, unknown>;

/** A connection as a minted login. Errors carry `code`: the SQLSTATE, or the server's errno as text. */
interface LoginConnection {
  query(sql: string): Promise<Row[]>;
  end(): Promise<void>;
}

/** What the cases need of an engine's scope, once its beforeAll ran. */
interface Subject {
  engine: EngineName;
  /** The scope's server coordinates and its requester (JIT_REQUESTER of its worlds). */
  scope: { port: number; database: string; requester: string; track(r: { cleanup(): Promise<void> }): void };
  /** The admin the policy names: never a superuser. */
  admin(): { user: string; password: string };
  /** A ServerTarget for AdminSession, as that admin. */
  target(): ServerTarget;
  /** Log in with the URI jit handed out, with the engine's own driver. */
  connect(uri: string): Promise<LoginConnection>;
  /** A query that runs for 30 s, exactly as the server reports it in its session list. */
  sleepSql: string;
  /** A table name quoted for a query. */
  quote(name: string): string;
  /** Every expiry the server itself keeps for the login, by where it keeps it (null: missing). Each may be rounded up to the second. */
  serverExpiries(login: string): Promise<Record<string, Date | null>>;
  loginExists(login: string): Promise<boolean>;
  /** Error codes: a privilege the login lacks; a login the server refuses; a running query whose session revoke ended. */
  codes: { denied: string; loginFailed: string; sessionEnded: string };
  maxLoginLength: number;
}

interface Adapter {
  label: string;
  /** Open the scope at the top of a describe block (and register what the admin needs). */
  open(): Subject;
}

const pgCode = (err: unknown) => String((err as { code?: string }).code ?? err);
const mysqlCode = (err: unknown) => String((err as { errno?: number; code?: string }).errno ?? (err as { code?: string }).code ?? err);
const withCode = (code: (err: unknown) => string) => (err: unknown) => Promise.reject(Object.assign(new Error(String((err as Error)?.message ?? err)), { code: code(err) }));

function postgres(version: 15 | 18): Adapter {
  return {
    label: `PostgreSQL ${version}`,
    open() {
      const server = usePostgres(version);
      let admin: BootstrapAdmin;
      // Beyond the policy: what the hostile-name case hands out through AdminSession.
      const extra = (a: string) => `GRANT SELECT ON ${HOSTILE_TABLES.map((t) => `public.${pg.escapeIdentifier(t)}`).join(', ')} TO ${pg.escapeIdentifier(a)} WITH GRANT OPTION`;
      beforeAll(async () => {
        admin = await bootstrapPgAdmin(server, (a) => policyOf('postgres', server, a), extra);
      });
      const superuser = async <T>(fn: (c: pg.Client) => Promise<T>) => {
        const c = await server.admin();
        try {
          return await fn(c);
        } finally {
          await c.end();
        }
      };
      return {
        engine: 'postgres',
        scope: server,
        admin: () => admin,
        target: () => server.target({ adminUser: admin.user }),
        async connect(uri) {
          const u = new URL(uri);
          const c = new pg.Client({
            host: u.hostname, port: Number(u.port), user: decodeURIComponent(u.username), password: decodeURIComponent(u.password),
            database: decodeURIComponent(u.pathname.slice(1)), connectionTimeoutMillis: 10_000,
          });
          c.on('error', () => {}); // a terminated backend must not crash the test
          await c.connect().catch(withCode(pgCode));
          return { query: (sql) => c.query(sql).then((r) => r.rows as Row[], withCode(pgCode)), end: () => c.end().catch(() => {}) };
        },
        sleepSql: 'SELECT pg_sleep(30)',
        quote: (name) => pg.escapeIdentifier(name),
        serverExpiries: (login) =>
          superuser(async (c) => {
            const { rows } = await c.query('SELECT rolvaliduntil FROM pg_catalog.pg_roles WHERE rolname = $1', [login]);
            return { 'VALID UNTIL': (rows[0]?.rolvaliduntil as Date | undefined) ?? null };
          }),
        loginExists: (login) => superuser(async (c) => (await c.query('SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1', [login])).rowCount === 1),
        // insufficient_privilege, invalid_password, admin_shutdown (pg_terminate_backend).
        codes: { denied: '42501', loginFailed: '28P01', sessionEnded: '57P01' },
        maxLoginLength: 63,
      };
    },
  };
}

function mariadb(): Adapter {
  return {
    label: 'MariaDB 10.11',
    open() {
      const server = useMariadb();
      let admin: BootstrapAdmin;
      const id = (name: string) => '`' + name.replace(/`/g, '``') + '`';
      // Beyond the policy: what the hostile-name case hands out through AdminSession.
      const extra = (a: string) => HOSTILE_TABLES.map((t) => `GRANT SELECT ON ${id(server.database)}.${id(t)} TO ${id(a)}@'%' WITH GRANT OPTION`).join('; ');
      beforeAll(async () => {
        admin = await bootstrapMariadbAdmin(server, (a) => policyOf('mysql', server, a), extra);
      });
      const root = async <T>(fn: (c: mysql.Connection) => Promise<T>) => {
        const c = await server.admin();
        try {
          return await fn(c);
        } finally {
          await c.end();
        }
      };
      const rows = async (c: mysql.Connection, sql: string, params: unknown[]) => (await c.query(sql, params))[0] as Row[];
      // As UTC text: a DATETIME read as a Date would be taken in this process's time zone.
      const utc = (col: string) => `DATE_FORMAT(${col}, '%Y-%m-%dT%H:%i:%s.%fZ')`;
      return {
        engine: 'mysql',
        scope: server,
        admin: () => admin,
        target: () => server.target({ adminUser: admin.user }),
        async connect(uri) {
          const u = new URL(uri);
          const c = await mysql
            .createConnection({
              host: u.hostname, port: Number(u.port), user: decodeURIComponent(u.username), password: decodeURIComponent(u.password),
              database: decodeURIComponent(u.pathname.slice(1)), connectTimeout: 10_000,
            })
            .catch(withCode(mysqlCode));
          c.on('error', () => {}); // a killed connection must not crash the test
          return {
            query: (sql) => c.query(sql).then(([r]) => (Array.isArray(r) ? (r as Row[]) : []), withCode(mysqlCode)),
            end: () => c.end().catch(() => {}),
          };
        },
        sleepSql: 'SELECT SLEEP(30)',
        quote: id,
        // The ledger row, and the one-shot event that drops the login at expiry (whole seconds, rounded up).
        serverExpiries: (login) =>
          root(async (c) => {
            const [ledger] = await rows(c, `SELECT ${utc('expires_at')} AS at FROM jit.leases WHERE login = ?`, [login]);
            const [event] = await rows(c, `SELECT ${utc('EXECUTE_AT')} AS at FROM information_schema.EVENTS WHERE EVENT_SCHEMA = 'jit' AND EVENT_NAME = ?`, [`expire_${login}`]);
            const at = (r: Row | undefined) => (r ? new Date(String(r.at)) : null);
            return { 'ledger expires_at': at(ledger), 'event EXECUTE_AT': at(event) };
          }),
        loginExists: (login) => root(async (c) => (await rows(c, 'SELECT 1 FROM mysql.user WHERE User = ?', [login])).length > 0),
        // ER_TABLEACCESS_DENIED_ERROR, ER_ACCESS_DENIED_ERROR; KILL CONNECTION closes the socket without a reply.
        codes: { denied: '1142', loginFailed: '1045', sessionEnded: 'PROTOCOL_CONNECTION_LOST' },
        maxLoginLength: 32,
      };
    },
  };
}

const ADAPTERS: Adapter[] = [postgres(15), postgres(18), mariadb()];

/** Table names every builder must quote; each fixture has them, holding one row (42). */
const HOSTILE_TABLES = ['a"b', 'a`b', "o'neil\\"];
/** A reason with quotes, a backslash, a newline and an ESC sequence; and how a terminal must be shown it. */
const HOSTILE_REASON = `ticket "42": it's o'neil\\ again\nline two \u001b[31mred\u001b[0m`;
const HOSTILE_REASON_SHOWN = String.raw`ticket "42": it's o'neil\ again\nline two \e[31mred\e[0m`;
/** Any C0 control but the newline, DEL, or C1: what must never reach a terminal raw. */
// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

const policyOf = (engine: EngineName, scope: { port: number; database: string }, admin: string) => `version: 1
databases:
  testdb:
    engine: ${engine}
    host: 127.0.0.1
    port: ${scope.port}
    database: ${scope.database}
    tls: disable
    admin:
      user: ${admin}
      password: env:JIT_TEST_ADMIN_PW
    roles:
      readonly:
        ttl: 15m
        max_ttl: 1h
        grants:
          - privileges: [SELECT]
            tables: [orders]
      writer:
        ttl: 15m
        max_ttl: 1h
        grants:
          - privileges: [SELECT, INSERT]
            tables: [orders]
`;

/** What `jit uri --json` prints. */
interface Minted {
  id: string;
  database: string;
  role: string;
  user: string;
  uri: string;
  expires_at: string;
}

/** The error code a promise rejects with, or 'no error'. */
const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => 'no error',
    (e: { code?: string }) => String(e.code ?? e),
  );

const json = <T>(r: RunResult): T => {
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as T;
};

describe.each(ADAPTERS.map((a) => [a.label, a] as const))('%s', (_label, adapter) => {
  const s = adapter.open();
  let w: JitWorld;
  let engine: Engine;
  let session: AdminSession;
  const open: LoginConnection[] = [];

  beforeAll(async () => {
    const { port, database, requester } = s.scope;
    w = await makeWorld({ port, database, requester, adminPassword: s.admin().password, track: (r) => s.scope.track(r) }, { policy: policyOf(s.engine, s.scope, s.admin().user) });
    engine = await loadEngine(s.engine);
    session = await engine.connectAdmin(s.target(), s.admin().password);
    s.scope.track({
      cleanup: async () => {
        await Promise.all(open.splice(0).map((c) => c.end()));
        await session.close();
      },
    });
  });

  const mint = async (role: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<Minted> =>
    json<Minted>(await w.run(['uri', 'testdb', '--role', role, ...args, '--json'], { env }));
  const login = async (m: Minted) => {
    const c = await s.connect(m.uri);
    open.push(c);
    return c;
  };
  const revoke = async (id: string) => json<Array<Record<string, unknown>>>(await w.run(['revoke', id, '--json']));
  /** Requested by this scope: as its requester, or as a longer name the cases make from it (`tester1.…@host`). */
  const ofThisScope = (requester: unknown) => String(requester).startsWith(s.scope.requester) && /^[@.]/.test(String(requester).slice(s.scope.requester.length));
  /** `jit list --all --json`, this scope's rows only: the server is shared with other files, and lists their logins too. */
  const listAll = async () => json<Row[]>(await w.run(['list', '--all', '--json'])).filter((r) => ofThisScope(r.requester));
  const localIds = async () => json<Row[]>(await w.run(['list', '--json'])).map((r) => r.id);
  /** Every expiry the server keeps for the login is there, at `at` (or up to a second later: rounded up). */
  const expectServerExpiry = async (user: string, at: number) => {
    for (const [where, when] of Object.entries(await s.serverExpiries(user))) {
      expect(when, where).not.toBeNull();
      expect(when!.getTime() - at, where).toBeGreaterThanOrEqual(0);
      expect(when!.getTime() - at, where).toBeLessThan(1000);
    }
  };
  /** Start the long query and wait until the server shows it running. */
  const sleepIn = async (c: LoginConnection, user: string, sql = s.sleepSql) => {
    const sleeping = codeOf(c.query(sql));
    expect(await waitFor(async () => (await session.sessions()).some((x) => x.login === user && x.query === sql), 15_000)).toBe(true);
    // Wrapped: an async function returning a promise would wait for it.
    return { sleeping };
  };

  it('grants exactly what the role lists: reads and writes outside it are refused', async () => {
    const ro = await mint('readonly');
    const wr = await mint('writer');
    const r = await login(ro);
    const wc = await login(wr);
    expect(await r.query('SELECT id FROM orders ORDER BY id')).toEqual([{ id: 1 }, { id: 2 }]);
    expect(await codeOf(r.query('SELECT * FROM secrets'))).toBe(s.codes.denied);
    expect(await codeOf(r.query('INSERT INTO orders (id, customer_id, total) VALUES (1000, 1, 1)'))).toBe(s.codes.denied);
    expect(await codeOf(wc.query('DELETE FROM orders WHERE id = 1'))).toBe(s.codes.denied);
    expect(await codeOf(wc.query('SELECT * FROM secrets'))).toBe(s.codes.denied);
    expect(await codeOf(wc.query('INSERT INTO orders (id, customer_id, total) VALUES (1000, 1, 1)'))).toBe('no error');
    expect(await r.query('SELECT id FROM orders ORDER BY id')).toEqual([{ id: 1 }, { id: 2 }, { id: 1000 }]);
    for (const m of [ro, wr]) expect(await revoke(m.id)).toMatchObject([{ login: m.user, ok: true }]);
  });

  it('revoke ends a running query and the login: a new login attempt fails', async () => {
    const m = await mint('readonly');
    const idle = await login(m);
    const { sleeping } = await sleepIn(await login(m), m.user);
    expect(await revoke(m.id)).toEqual([{ database: 'testdb', login: m.user, ok: true, terminated: 2 }]);
    expect(await sleeping).toBe(s.codes.sessionEnded);
    expect(await codeOf(idle.query('SELECT 1'))).not.toBe('no error');
    expect(await codeOf(s.connect(m.uri))).toBe(s.codes.loginFailed);
    expect(await s.loginExists(m.user)).toBe(false);
    expect(await localIds()).not.toContain(m.id);
  });

  it('revoking twice succeeds: through the CLI, and through the engine (already gone)', async () => {
    const a = await mint('readonly');
    expect(await revoke(a.id)).toEqual([{ database: 'testdb', login: a.user, ok: true, terminated: 0 }]);
    const again = await w.run(['revoke', a.id]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(new RegExp(`^${a.user} was already revoked \\(.*, cause manual\\)$`, 'm'));
    expect(await revoke(a.id)).toEqual([{ database: 'testdb', login: a.user, ok: true, terminated: 0, alreadyGone: true }]);

    const b = await mint('readonly');
    expect(await session.revoke({ login: b.user, leaseId: b.id })).toEqual({ login: b.user, gone: true, terminated: 0, errors: [] });
    expect(await session.revoke({ login: b.user, leaseId: b.id })).toEqual({ login: b.user, gone: true, alreadyGone: true, terminated: 0, errors: [] });
    // The local lease outlived the server's login: revoking it still succeeds, and forgets it.
    expect(await revoke(b.id)).toMatchObject([{ login: b.user, ok: true }]);
    expect(await localIds()).not.toContain(b.id);
  });

  it('hostile identifiers: grants on a"b, a`b and o\'neil\\ for a login minted elsewhere', async () => {
    const schema = engine.profile.defaultSchema(s.scope.database);
    // The login's own name has the shape every mint gives it: jit acts only on logins of that
    // shape (a ledger row is a claim anyone with INSERT could forge). Quoting of hostile login
    // names is covered by the engines' SQL builder tests.
    const user = `jit_${s.scope.requester}_${randomLowerAlnum(12)}`;
    const password = generatePassword();
    const now = Date.now();
    const marker: LeaseMarker = {
      id: randomLowerAlnum(10), database: 'testdb', role: 'hostile', requester: s.scope.requester, requester_host: 'contract',
      reason: HOSTILE_REASON, created_at: new Date(now).toISOString(), expires_at: new Date(now + 900_000).toISOString(), max_expires_at: new Date(now + 3_600_000).toISOString(),
    };
    await session.mint({
      login: user, password, expiresAt: new Date(now + 900_000), memberOf: [], connectionLimit: 5, marker,
      grants: [{ privileges: ['SELECT'], tables: HOSTILE_TABLES.map((name) => ({ schema, name })) }],
    });
    const c = await s.connect(engine.buildUri(s.target(), user, password));
    open.push(c);
    for (const t of HOSTILE_TABLES) expect(await c.query(`SELECT id FROM ${s.quote(t)}`)).toEqual([{ id: 42 }]);
    expect(await codeOf(c.query('SELECT id FROM orders'))).toBe(s.codes.denied);
    expect((await session.listLogins()).find((l) => l.login === user)?.marker).toEqual(marker);
    await expectServerExpiry(user, now + 900_000);
    expect((await listAll()).find((r) => r.user === user)).toMatchObject({ id: marker.id, role: 'hostile', reason: HOSTILE_REASON, sessions: 1 });
    // Minted "elsewhere" (no local lease): the CLI finds it on the server by its name.
    expect(await revoke(user)).toEqual([{ database: 'testdb', login: user, ok: true, terminated: 1 }]);
    expect(await codeOf(s.connect(engine.buildUri(s.target(), user, password)))).toBe(s.codes.loginFailed);
  });

  it('a hostile --reason and requester round-trip into the server and list --all, and are never printed raw', async () => {
    // The requester is the OS user's name, which jit does not choose either.
    const requester = `${s.scope.requester}.o'neil\\"\u001b[31m`;
    const m = await mint('readonly', ['--reason', HOSTILE_REASON], { JIT_REQUESTER: requester });
    expect((await session.listLogins()).find((l) => l.login === m.user)?.marker).toMatchObject({ reason: HOSTILE_REASON, requester });
    expect((await listAll()).find((r) => r.user === m.user)).toMatchObject({ id: m.id, reason: HOSTILE_REASON, requester: expect.stringMatching(/@/) });
    expect(String((await listAll()).find((r) => r.user === m.user)?.requester).split('@')[0]).toBe(requester);
    const table = await w.run(['list', '--all']);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).not.toMatch(RAW_CONTROL);
    const line = table.stdout.split('\n').find((l) => l.includes(m.user));
    expect(line?.endsWith(`  ${HOSTILE_REASON_SHOWN}`)).toBe(true);
    expect(line).toContain(String.raw`.o'neil\"\e[31m@`);
    const audit = await w.run(['audit']);
    expect(audit.code, audit.stderr).toBe(0);
    expect(audit.stdout + audit.stderr).not.toMatch(RAW_CONTROL);
    expect(json<Row[]>(await w.run(['audit', '--json']))).toContainEqual(expect.objectContaining({ event: 'mint', login: m.user, reason: HOSTILE_REASON }));
    expect(await revoke(m.id)).toMatchObject([{ login: m.user, ok: true }]);
  });

  it('list --all and sessions show the login and its open session, from the server', async () => {
    const m = await mint('readonly');
    const shown = (await listAll()).map(({ created_at: _, requester, ...r }) => ({ ...r, requester: String(requester).split('@')[0] }));
    expect(shown).toEqual([{ id: m.id, database: 'testdb', role: 'readonly', user: m.user, expires_at: m.expires_at, state: 'active', requester: s.scope.requester, reason: null, sessions: 0 }]);

    // The query text is the login's to choose: an ESC sequence in it must not reach the terminal.
    const sql = `${s.sleepSql} /* \u001b[2J\u001b[31m */`;
    const { sleeping } = await sleepIn(await login(m), m.user, sql);
    const sessions = json<Row[]>(await w.run(['sessions', 'testdb', '--json'])).filter((r) => String(r.user).startsWith(`jit_${s.scope.requester}_`));
    expect(sessions).toEqual([expect.objectContaining({ database: 'testdb', user: m.user, role: 'readonly', query: sql, requester: expect.stringMatching(new RegExp(`^${s.scope.requester}@`)) })]);
    const table = await w.run(['sessions', 'testdb']);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).not.toMatch(RAW_CONTROL);
    expect(table.stdout.split('\n').find((l) => l.includes(m.user))).toContain(String.raw`/* \e[2J\e[31m */`);
    expect((await listAll()).map((r) => [r.user, r.sessions])).toEqual([[m.user, 1]]);

    expect(await revoke(m.id)).toMatchObject([{ login: m.user, ok: true, terminated: 1 }]);
    expect(await sleeping).toBe(s.codes.sessionEnded);
    expect(json<Row[]>(await w.run(['sessions', 'testdb', '--json'])).filter((r) => r.user === m.user)).toEqual([]);
    expect(await listAll()).toEqual([]);
  });

  it('expiry: a 5 s lease is revoked by the reaper, the login then fails and the lease is gone', async () => {
    const m = await mint('readonly', ['--ttl', '5s']);
    expect(await waitFor(async () => !(await localIds()).includes(m.id), 45_000, 500)).toBe(true);
    expect(await codeOf(s.connect(m.uri))).toBe(s.codes.loginFailed);
    expect(await s.loginExists(m.user)).toBe(false);
    expect((await listAll()).map((r) => r.user)).not.toContain(m.user);
    expect(json<Row[]>(await w.run(['audit', '--json']))).toContainEqual(expect.objectContaining({ event: 'revoke', cause: 'expiry', login: m.user }));
  });

  it('extend moves the server-side expiry; past max_ttl it is refused (exit 2) and nothing moves', async () => {
    const m = await mint('readonly');
    await expectServerExpiry(m.user, Date.parse(m.expires_at));

    const extended = json<Minted>(await w.run(['extend', m.id, '--ttl', '20m', '--json']));
    const target = Date.parse(extended.expires_at);
    expect(target - Date.parse(m.expires_at)).toBeGreaterThan(4 * 60_000);
    await expectServerExpiry(m.user, target);
    const after = await s.serverExpiries(m.user);
    expect((await listAll()).find((r) => r.user === m.user)?.expires_at).toBe(extended.expires_at);

    const refused = await w.run(['extend', m.id, '--ttl', '2h']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^error: --ttl 2h would end after the role's max_ttl/m);
    expect(await s.serverExpiries(m.user)).toEqual(after);
    expect(await revoke(m.id)).toMatchObject([{ login: m.user, ok: true }]);
  });

  it("a long requester name: the login fits the engine's limit, keeps 10+ random characters, and works", async () => {
    const long = `${s.scope.requester}.night-shift.on-call-engineer.platform-team.databases.eu-west`.padEnd(80, '-x').slice(0, 80);
    expect(long).toHaveLength(80);
    const m = await mint('readonly', [], { JIT_REQUESTER: long });
    expect(m.user.length).toBeLessThanOrEqual(s.maxLoginLength);
    expect(m.user).toMatch(new RegExp(`^jit_${s.scope.requester}[a-z]*_[a-z0-9]{10,}$`));
    expect(await (await login(m)).query('SELECT id FROM orders WHERE id < 3 ORDER BY id')).toEqual([{ id: 1 }, { id: 2 }]);
    expect((await listAll()).find((r) => r.user === m.user)?.requester).toMatch(new RegExp(`^${long.replace(/[.-]/g, '\\$&')}@`));
    expect(await revoke(m.id)).toMatchObject([{ login: m.user, ok: true }]);
  });

  // Last: what every case above minted is gone from the server, whichever way it was revoked.
  it('leaves no login of this scope on the server', async () => {
    expect(await listAll()).toEqual([]);
    expect((await session.listLogins()).filter((l) => ofThisScope(`${l.marker?.requester}@`))).toEqual([]);
    expect(await localIds()).toEqual([]);
  });
});
