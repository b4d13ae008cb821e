/**
 * A scope on the run's MariaDB server (see servers.ts): its own copy of the fixture schema and
 * its own requester, and for an exclusive scope the sweep before and the settings put back after.
 * The server itself is started once per run by `startMariadbForRun` (test/setup/test-servers.ts).
 */
import mysql from 'mysql2/promise';
import type { StartedServer } from '../setup/server-broker.js';
import type { ServerTarget } from '../../src/engines/engine.js';
import { startMariadb, type StartMariadbOptions } from './mariadb-server.js';
import type { ScopeKit } from './servers.js';

/** What test files get: the run's server as this scope sees it. */
export interface MariadbScope {
  host: '127.0.0.1';
  port: number;
  adminUser: string;
  adminPassword: string;
  /** This scope's copy of the fixture schema (`app_<n>`), the policy's `database:`. */
  database: string;
  /** JIT_REQUESTER for this scope's worlds: its logins are `jit_<requester>_…`. */
  requester: string;
  exclusive: boolean;
  /** The server's general log (on for the whole run): every statement it received. */
  generalLogFile: string;
  socket: string;
  target(overrides?: Partial<ServerTarget>): ServerTarget;
  /** root over the socket (superuser); multipleStatements on. The caller ends it. */
  admin(): Promise<mysql.Connection>;
  /** Any account over TCP 127.0.0.1 (default schema: this scope's; null for none). The caller ends it. */
  connectAs(user: string, password: string, database?: string | null): Promise<mysql.Connection>;
  /** SET GLOBAL name = value (exclusive scopes only); put back when the scope ends. */
  configure(settings: Record<string, string | number>): Promise<void>;
  /** Something to clean up when the scope ends (before the schema goes). */
  track(resource: { cleanup(): Promise<void> }): void;
}

interface MariadbCoords {
  host: '127.0.0.1';
  port: number;
  adminUser: string;
  adminPassword: string;
  socket: string;
  generalLogFile: string;
  /** `user@host` of every account the server started with. */
  baselineAccounts: string[];
  baselineDatabases: string[];
  /** The globals configure() may change, as the server started. */
  baselineSettings: Record<string, string>;
}

const FIXTURE = 'app';
const SETTINGS = ['event_scheduler', 'general_log', 'max_connections'];
const id = (s: string) => '`' + s.replace(/`/g, '``') + '`';
const account = (user: string, host: string) => `${id(user)}@${id(host)}`;
/** A global's value as SET GLOBAL takes it: a number or a keyword, never a string literal. */
const settingValue = (v: string) => {
  if (!/^(\d+|ON|OFF|DISABLED)$/i.test(v)) throw new Error(`unexpected setting value ${JSON.stringify(v)}`);
  return v;
};

async function rootConnection(socket: string): Promise<mysql.Connection> {
  const c = await mysql.createConnection({ socketPath: socket, user: 'root', multipleStatements: true });
  c.on('error', () => {});
  return c;
}

type Row = Record<string, unknown>;
const rows = async (c: mysql.Connection, sql: string, params: unknown[] = []) => (await c.query(sql, params))[0] as Row[];

/** The run's MariaDB: general log on (tests prove no password reaches it), event scheduler on. */
export async function startMariadbForRun(opts: StartMariadbOptions = {}): Promise<StartedServer> {
  const m = await startMariadb({ generalLog: true, ...opts });
  try {
    const root = await m.admin();
    try {
      const accounts = (await rows(root, 'SELECT User AS u, Host AS h FROM mysql.user')).map((r) => `${r.u}@${r.h}`);
      const dbs = (await rows(root, 'SELECT SCHEMA_NAME AS s FROM information_schema.SCHEMATA')).map((r) => String(r.s));
      const settings: Record<string, string> = {};
      for (const s of SETTINGS) settings[s] = String((await rows(root, `SELECT @@GLOBAL.${s} AS v`))[0]!.v);
      const coords: MariadbCoords = {
        host: m.host, port: m.port, adminUser: m.adminUser, adminPassword: m.adminPassword, socket: m.socket,
        generalLogFile: m.generalLogFile, baselineAccounts: accounts, baselineDatabases: dbs, baselineSettings: settings,
      };
      return { coords: { ...coords }, stop: m.stop };
    } finally {
      await root.end();
    }
  } catch (err) {
    await m.stop();
    throw err;
  }
}

export const mariadbKit: ScopeKit<MariadbScope> = {
  async open(raw, ctx) {
    const c = raw as unknown as MariadbCoords;
    const database = `${FIXTURE}_${ctx.seq}`;
    const tracked: Array<{ cleanup(): Promise<void> }> = [];
    const restore = async (root: mysql.Connection) => {
      // SET GLOBAL takes ON/OFF and numbers, not their quoted forms ('1' is refused for general_log).
      for (const [name, value] of Object.entries(c.baselineSettings)) await root.query(`SET GLOBAL ${name} = ${settingValue(value)}`);
    };
    const root = await rootConnection(c.socket);
    try {
      if (ctx.exclusive) {
        await sweep(c, root);
        await restore(root);
      }
      // A copy of every fixture table, and the admin's grantable privileges on it, as on `app`.
      await root.query(`CREATE DATABASE ${id(database)}`);
      for (const r of await rows(root, 'SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?', [FIXTURE])) {
        const t = String(r.t);
        await root.query(`CREATE TABLE ${id(database)}.${id(t)} LIKE ${id(FIXTURE)}.${id(t)}`);
        await root.query(`INSERT INTO ${id(database)}.${id(t)} SELECT * FROM ${id(FIXTURE)}.${id(t)}`);
      }
      await root.query(`GRANT SELECT, INSERT, UPDATE, DELETE, REFERENCES, TRIGGER ON ${id(database)}.* TO ${account(c.adminUser, '%')} WITH GRANT OPTION`);
    } finally {
      await root.end();
    }
    const server: MariadbScope = {
      host: c.host,
      port: c.port,
      adminUser: c.adminUser,
      adminPassword: c.adminPassword,
      database,
      requester: `tester${ctx.seq}`,
      exclusive: ctx.exclusive,
      generalLogFile: c.generalLogFile,
      socket: c.socket,
      target: (overrides = {}) => ({ engine: 'mysql', host: c.host, port: c.port, database, tls: 'disable', adminUser: c.adminUser, ...overrides }),
      admin: () => rootConnection(c.socket),
      connectAs: async (user, password, db = database) => {
        const conn = await mysql.createConnection({ host: c.host, port: c.port, user, password, ...(db ? { database: db } : {}), connectTimeout: 10_000 });
        conn.on('error', () => {}); // a killed connection must not crash the caller
        return conn;
      },
      configure: async (settings) => {
        if (!ctx.exclusive) throw new Error('configure() changes the server for every test file: use useMariadb({ exclusive: true })');
        const r = await rootConnection(c.socket);
        try {
          for (const [name, value] of Object.entries(settings)) {
            if (!SETTINGS.includes(name)) throw new Error(`configure(): ${name} is not one the scope knows how to put back (${SETTINGS.join(', ')})`);
            await r.query(`SET GLOBAL ${name} = ${settingValue(String(value))}`);
          }
        } finally {
          await r.end();
        }
      },
      track: (res) => void tracked.push(res),
    };
    return {
      server,
      close: async () => {
        for (const t of tracked.splice(0).reverse()) await t.cleanup().catch(() => {});
        const r = await rootConnection(c.socket);
        try {
          if (ctx.exclusive) await restore(r);
          await r.query(`REVOKE ALL PRIVILEGES, GRANT OPTION ON ${id(database)}.* FROM ${account(c.adminUser, '%')}`).catch(() => {});
          await r.query(`DROP DATABASE IF EXISTS ${id(database)}`);
        } finally {
          await r.end();
        }
      },
    };
  },
};

/**
 * Back to the server as it started, before an exclusive scope: no other client session, and no
 * account, schema, ledger row or event a test made. Only exclusive scopes sweep, and they hold the
 * lock, so nothing here belongs to anyone still running.
 */
async function sweep(c: MariadbCoords, root: mysql.Connection): Promise<void> {
  const [me] = await rows(root, 'SELECT CONNECTION_ID() AS id');
  for (const p of await rows(root, "SELECT ID AS id FROM information_schema.PROCESSLIST WHERE ID <> ? AND COMMAND <> 'Daemon' AND USER NOT IN ('system user', 'event_scheduler')", [me!.id])) {
    await root.query(`KILL CONNECTION ${Number(p.id)}`).catch(() => {});
  }
  for (const r of await rows(root, "SELECT User AS u, Host AS h, is_role AS role FROM mysql.user")) {
    const u = String(r.u);
    const h = String(r.h);
    if (c.baselineAccounts.includes(`${u}@${h}`)) continue;
    // A role is a row with an empty host; `DROP USER role` would name role@'%' instead.
    // PUBLIC (10.11) appears with the first grant to it and cannot be dropped: take its grants back.
    if (r.role === 'Y' && u === 'PUBLIC') await root.query('REVOKE ALL PRIVILEGES, GRANT OPTION FROM PUBLIC');
    else if (r.role === 'Y') await root.query(`DROP ROLE IF EXISTS ${id(u)}`);
    else await root.query(`DROP USER IF EXISTS ${account(u, h)}`);
  }
  for (const r of await rows(root, 'SELECT SCHEMA_NAME AS s FROM information_schema.SCHEMATA')) {
    const s = String(r.s);
    if (!c.baselineDatabases.includes(s)) await root.query(`DROP DATABASE IF EXISTS ${id(s)}`);
  }
}
