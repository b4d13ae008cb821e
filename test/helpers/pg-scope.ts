/**
 * A scope on the run's PostgreSQL server (see servers.ts): its database, and for an exclusive
 * scope the sweep before and the restore after.
 */
import { rm, writeFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import type { PgCoords, PgServer } from './pg-server.js';
import type { ScopeContext, ScopeKit } from './servers.js';

const ident = (s: string) => pg.escapeIdentifier(s);
const literal = (s: string) => pg.escapeLiteral(s);

function connector(c: PgCoords) {
  return async (user: string, password: string, database: string): Promise<pg.Client> => {
    const client = new pg.Client({ host: c.host, port: c.port, user, password, database, connectionTimeoutMillis: 10_000 });
    client.on('error', () => {}); // a terminated backend must not crash the caller
    await client.connect();
    return client;
  };
}

/** The files a test may drop into the data directory (TLS) and the sweep removes. */
const DATA_DIR_EXTRAS = ['server.crt', 'server.key', 'root.crt'];

export const postgresKit: ScopeKit<PgServer> = {
  async open(raw, ctx) {
    const c = raw as unknown as PgCoords;
    const connect = connector(c);
    const admin = (database: string) => connect(c.adminUser, c.adminPassword, database);
    const database = `app_${ctx.seq}`;
    const requester = `tester${ctx.seq}`;
    const tracked: Array<{ cleanup(): Promise<void> }> = [];
    let generation = 0;

    /** Reload the configuration and wait until a new session runs with it (and so with pg_hba.conf too). */
    const reload = async (a: pg.Client) => {
      const mark = `${ctx.seq}.${++generation}`;
      // A custom setting: ALTER SYSTEM knows it once this session has a placeholder for it.
      await a.query(`SET jit_test.generation = ${literal(mark)}`);
      await a.query(`ALTER SYSTEM SET jit_test.generation = ${literal(mark)}`);
      await a.query('SELECT pg_catalog.pg_reload_conf()');
      // The postmaster reloads postgresql.auto.conf and pg_hba.conf in one go before it forks
      // the next backend: a fresh session that sees the mark was started under both.
      const deadline = Date.now() + 30_000;
      for (;;) {
        if (Date.now() > deadline) throw new Error(`the server did not reload its configuration (check ${c.logFile})`);
        const probe = await admin('postgres');
        try {
          if ((await probe.query(`SELECT pg_catalog.current_setting('jit_test.generation', true) AS g`)).rows[0].g === mark) return;
        } finally {
          await probe.end();
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    };

    /** Settings, pg_hba.conf and data-dir files as the run's server started; the server running. */
    const restore = async () => {
      const a = await upAdmin();
      try {
        await writeFile(join(c.dataDir, 'pg_hba.conf'), c.hba);
        await a.query('ALTER SYSTEM RESET ALL');
        await reload(a);
      } finally {
        await a.end();
      }
      for (const f of DATA_DIR_EXTRAS) await rm(join(c.dataDir, f), { force: true });
    };

    /** An admin session on `postgres`; an exclusive scope restarts a server left stopped by a failed one. */
    const upAdmin = async () => {
      try {
        return await admin('postgres');
      } catch (err) {
        if (!ctx.exclusive || (err as { code?: string }).code !== 'ECONNREFUSED') throw err;
        await ctx.control('resume');
        return admin('postgres');
      }
    };

    if (ctx.exclusive) {
      await sweep(c, await upAdmin());
      await restore();
    }
    const boot = await upAdmin();
    try {
      await boot.query(`CREATE DATABASE ${ident(database)} TEMPLATE ${ident(c.template)}`);
    } finally {
      await boot.end();
    }

    const needExclusive = (what: string) => {
      if (!ctx.exclusive) throw new Error(`${what} changes the server for every test file: use usePostgres(${c.version}, { exclusive: true })`);
    };
    const server: PgServer = {
      version: c.version,
      host: c.host,
      port: c.port,
      adminUser: c.adminUser,
      adminPassword: c.adminPassword,
      database,
      requester,
      exclusive: ctx.exclusive,
      dataDir: c.dataDir,
      logFile: c.logFile,
      target: (overrides = {}) => ({ engine: 'postgres', host: c.host, port: c.port, database, tls: 'disable', adminUser: c.adminUser, ...overrides }),
      admin: (db = database) => admin(db),
      connectAs: (user, password, db = database) => connect(user, password, db),
      pause: async () => {
        needExclusive('pause()');
        await ctx.control('pause');
      },
      resume: async () => {
        needExclusive('resume()');
        await ctx.control('resume');
      },
      configure: async (settings) => {
        needExclusive('configure()');
        const a = await admin('postgres');
        try {
          for (const [name, value] of Object.entries(settings)) await a.query(`ALTER SYSTEM SET ${ident(name)} = ${literal(value)}`);
          await reload(a);
        } finally {
          await a.end();
        }
      },
      editHba: async (edit) => {
        needExclusive('editHba()');
        const file = join(c.dataDir, 'pg_hba.conf');
        await writeFile(file, edit(await readFile(file, 'utf8')));
        const a = await admin('postgres');
        try {
          await reload(a);
        } finally {
          await a.end();
        }
      },
      track: (r) => void tracked.push(r),
    };

    return {
      server,
      close: async () => {
        for (const r of tracked.splice(0).reverse()) await r.cleanup().catch(() => {});
        if (ctx.exclusive) await restore();
        const a = await admin('postgres');
        try {
          await a.query(`DROP DATABASE IF EXISTS ${ident(database)} WITH (FORCE)`);
        } finally {
          await a.end();
        }
      },
    };
  },
};

/**
 * Back to the server as it started, before an exclusive scope: no other session, no database,
 * role or setting a test made. Only exclusive scopes sweep, and they hold the lock: every earlier
 * scope has ended, so nothing here belongs to anyone still running.
 */
async function sweep(c: PgCoords, a: pg.Client): Promise<void> {
  try {
    // pg_cron's jobs (the backstop server's): none of an earlier scope may fire in this one.
    if ((await a.query(`SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'pg_cron'`)).rowCount) await a.query('DELETE FROM cron.job');
    // Leftover sessions (a minted login's, a reaper's) would keep roles and databases busy.
    await a.query(
      `SELECT pg_catalog.pg_terminate_backend(pid, 10000) FROM pg_catalog.pg_stat_activity WHERE pid <> pg_catalog.pg_backend_pid() AND backend_type = 'client backend'`,
    );
    const dbs = (await a.query('SELECT datname FROM pg_catalog.pg_database')).rows.map((r: { datname: string }) => r.datname);
    for (const db of dbs) if (!c.baselineDatabases.includes(db)) await a.query(`DROP DATABASE ${ident(db)} WITH (FORCE)`);
    const roles = (await a.query('SELECT rolname FROM pg_catalog.pg_roles')).rows
      .map((r: { rolname: string }) => r.rolname)
      .filter((r: string) => !c.baselineRoles.includes(r));
    if (roles.length > 0) {
      // Their own databases are gone; what is left of them lives in `postgres` (the fixture
      // template takes no connections, so nobody could grant them anything there).
      await a.query(`DROP OWNED BY ${roles.map(ident).join(', ')}`);
      for (const r of roles) await a.query(`DROP ROLE ${ident(r)}`);
    }
  } finally {
    await a.end();
  }
}

export type { ScopeContext };
