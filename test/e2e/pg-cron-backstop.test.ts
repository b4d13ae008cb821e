/**
 * The pg_cron expiry backstop (README "The pg_cron backstop"), on a PostgreSQL 15 server of its
 * own that preloads pg_cron (its jobs in database `postgres`, run in background workers), with
 * README's non-superuser admin plus README's pg_cron grants. pg_cron runs jobs at whole minutes,
 * so every case that waits for it runs side by side in one test; the server-wide commands
 * (`reap`, `revoke --all`) come after, when nothing else is waiting.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import type { LeaseMarker } from '../../src/engines/engine.js';
import { postgresEngine } from '../../src/engines/postgres/postgres-engine.js';
import { SCHEDULE_SQL, cleanupJobSql, expireJobSql } from '../../src/engines/postgres/postgres-cron-sql.js';
import { generatePassword } from '../../src/core/random.js';
import { usePgCron, usePostgres } from '../helpers/servers.js';
import { CRON_DATABASE, FIXTURE_TEMPLATE, type PgServer } from '../helpers/pg-server.js';
import { createReadmeAdmin, README_ADMIN, type ReadmeAdmin } from '../helpers/pg-readme-admin.js';
import { readmeSqlBlock } from '../helpers/readme-sql.js';
import { makeWorld, roleExists, testPolicy, waitFor, type JitWorld } from '../helpers/jit-cli.js';
import { isAlive, mintUri, passwordOf, reaperPid, roleRecord, sessionAlive } from './support.js';

/** A database name the policy may hold that tries the quoting: mixed case, `$jit$` (the dollar-quote tag), `-`. */
const HOSTILE_DB = 'Jit$jit$-db';
const ident = (s: string) => pg.escapeIdentifier(s);

/** The policy of these tests: HOSTILE_DB on the server, as `admin`. */
function cronPolicy(server: PgServer, admin: string): string {
  return `version: 1
databases:
  testdb:
    engine: postgres
    host: 127.0.0.1
    port: ${server.port}
    database: ${JSON.stringify(HOSTILE_DB)}
    tls: disable
    admin:
      user: ${admin}
      password: env:JIT_TEST_ADMIN_PW
    roles:
      short:
        ttl: 5s
        max_ttl: 1m
        grants:
          - privileges: [SELECT]
            tables: [public.orders]
      readonly:
        ttl: 10m
        max_ttl: 1h
        grants:
          - privileges: [SELECT]
            tables: [public.orders, public.customers]
`;
}

interface Job {
  jobid: string;
  job: string;
  schedule: string;
  database: string;
  username: string;
}

describe('the pg_cron backstop', () => {
  const server = usePgCron({ exclusive: true });
  let admin: ReadmeAdmin;
  const worlds: JitWorld[] = [];
  const clients: pg.Client[] = [];

  /** The jobs pg_cron holds for a login, read as the superuser. */
  const jobsOf = async (login: string): Promise<Job[]> => {
    const c = await server.admin(CRON_DATABASE);
    try {
      const { rows } = await c.query(
        `SELECT jobid::text, jobname::text AS job, schedule, database, username FROM cron.job WHERE jobname IN ($1, $2) ORDER BY jobname DESC`,
        [`jit:expire:${login}`, `jit:cleanup:${login}`],
      );
      return rows as Job[];
    } finally {
      await c.end();
    }
  };
  /** How pg_cron's run of a job ended, once it has: 'succeeded' or 'failed: …'. */
  const runOf = async (jobid: string): Promise<string | null> => {
    const c = await server.admin(CRON_DATABASE);
    try {
      const { rows } = await c.query(`SELECT status, return_message FROM cron.job_run_details WHERE jobid = $1 AND end_time IS NOT NULL ORDER BY runid LIMIT 1`, [jobid]);
      return rows[0] ? (rows[0].status === 'succeeded' ? 'succeeded' : `${rows[0].status}: ${rows[0].return_message}`) : null;
    } finally {
      await c.end();
    }
  };
  const world = async (user = admin) => {
    const w = await makeWorld(server, { policy: cronPolicy(server, user.user), env: { JIT_TEST_ADMIN_PW: user.password } });
    worlds.push(w);
    return w;
  };
  /** A session as the login on HOSTILE_DB, kept until the end. */
  const sessionAs = async (login: string, password: string) => {
    const c = await server.connectAs(login, password, HOSTILE_DB);
    clients.push(c);
    return c;
  };
  /** The cron line of the first minute at or after `iso`, in GMT (pg_cron 1.4). */
  const cronLine = (iso: string) => {
    const d = new Date(Math.ceil(Date.parse(iso) / 60_000) * 60_000);
    return `${d.getUTCMinutes()} ${d.getUTCHours()} ${d.getUTCDate()} ${d.getUTCMonth() + 1} *`;
  };
  /** Schedule a login's two jobs as `user` would at mint, for `at` (the tests move them early). */
  const scheduleAs = async (user: ReadmeAdmin, login: string, at: Date) => {
    const c = await server.connectAs(user.user, user.password, CRON_DATABASE);
    try {
      await c.query(SCHEDULE_SQL, [login, expireJobSql(login), HOSTILE_DB, cleanupJobSql(login), at]);
    } finally {
      await c.end();
    }
  };

  beforeAll(async () => {
    const su = await server.admin('postgres');
    try {
      await su.query(`CREATE DATABASE ${ident(HOSTILE_DB)} TEMPLATE ${ident(FIXTURE_TEMPLATE)}`);
    } finally {
      await su.end();
    }
    admin = await createReadmeAdmin(server);
    // README's grants for what the policy hands out, in HOSTILE_DB, and README's pg_cron block.
    const db = await server.admin(HOSTILE_DB);
    try {
      await db.query(`GRANT SELECT ON public.orders, public.customers TO ${ident(admin.user)} WITH GRANT OPTION`);
    } finally {
      await db.end();
    }
    const cron = await server.admin(CRON_DATABASE);
    try {
      await cron.query(readmeSqlBlock('pg-cron-admin-sql').replaceAll(README_ADMIN, admin.user));
    } finally {
      await cron.end();
    }
  });

  afterAll(async () => {
    for (const c of clients) await c.end().catch(() => {});
    for (const w of worlds) await w.cleanup().catch(() => {});
    const su = await server.admin('postgres');
    try {
      await su.query(`DROP DATABASE IF EXISTS ${ident(HOSTILE_DB)} WITH (FORCE)`);
    } finally {
      await su.end();
    }
  });

  it('ends sessions at expiry with every jit process gone, leaves what is no expired jit login alone, and cleans up after itself', async () => {
    // 1. The reaper killed with -9 and no jit command run: pg_cron ends the session and drops the login.
    const killed = await world();
    const minted = await mintUri(killed, ['--role', 'short', '--ttl', '5s']);
    const session = await sessionAs(minted.user, minted.password);
    const jobs = await jobsOf(minted.user);
    expect(jobs.map((j) => [j.job, j.database, j.username])).toEqual([
      [`jit:expire:${minted.user}`, HOSTILE_DB, admin.user],
      [`jit:cleanup:${minted.user}`, CRON_DATABASE, admin.user],
    ]);
    expect(jobs[0]!.schedule).toBe(cronLine(minted.expires_at));
    const pid = (await reaperPid(killed.home))!;
    process.kill(pid, 'SIGKILL');
    expect(await waitFor(() => !isAlive(pid), 2_000)).toBe(true);
    const expiresAt = Date.parse(minted.expires_at);

    // 2. A jit_ role that is not a jit login (no marker membership), past its VALID UNTIL, with a job due now.
    const decoy = `jit_${server.requester}_decoy`;
    const decoyPw = generatePassword();
    const su = await server.admin(HOSTILE_DB);
    try {
      await su.query(`CREATE ROLE ${ident(decoy)} LOGIN PASSWORD ${pg.escapeLiteral(decoyPw)} VALID UNTIL ${pg.escapeLiteral(new Date(Date.now() + 3_000).toISOString())}`);
    } finally {
      await su.end();
    }
    const decoySession = await sessionAs(decoy, decoyPw);
    await scheduleAs(admin, decoy, new Date(Date.now() + 3_000));
    const [decoyJob] = await jobsOf(decoy);

    // 3. A jit login that is not expired, whose job runs early (moved by hand): nothing happens to it.
    const early = await world();
    const live = await mintUri(early, ['--role', 'readonly', '--ttl', '10m']);
    const liveSession = await sessionAs(live.user, live.password);
    await scheduleAs(admin, live.user, new Date(Date.now() + 3_000));
    const [liveJob] = await jobsOf(live.user);

    // 4. A login minted through the engine with a hostile name: the job quotes it.
    const hostile = `jit_${server.requester}_o'ne"il\\ $jit$ x`;
    const hostilePw = generatePassword();
    const s = await postgresEngine.connectAdmin(server.target({ database: HOSTILE_DB, adminUser: admin.user }), admin.password);
    const now = await s.serverTime();
    const marker: LeaseMarker = {
      id: 'hostile', database: 'testdb', role: 'short', requester: server.requester, requester_host: 'h',
      created_at: now.toISOString(), expires_at: new Date(now.getTime() + 5_000).toISOString(), max_expires_at: new Date(now.getTime() + 60_000).toISOString(),
    };
    try {
      await s.mint({ login: hostile, password: hostilePw, expiresAt: new Date(now.getTime() + 5_000), grants: [{ privileges: ['SELECT'], tables: [{ schema: 'public', name: 'orders' }] }], memberOf: [], connectionLimit: -1, marker });
    } finally {
      await s.close();
    }
    const hostileSession = await sessionAs(hostile, hostilePw);
    expect((await jobsOf(hostile)).map((j) => j.job)).toEqual([`jit:expire:${hostile}`, `jit:cleanup:${hostile}`]);

    // pg_cron works in whole minutes: the expire job runs within a minute of expiry, its cleanup a minute later.
    const minute = 60_000;
    const [ended, decoyRan, liveRan, hostileEnded] = await Promise.all([
      waitFor(async () => !(await sessionAlive(session)) && !(await roleExists(server, minted.user)), expiresAt + minute + 15_000 - Date.now(), 500),
      waitFor(async () => (await runOf(decoyJob!.jobid)) !== null, 2 * minute, 500),
      waitFor(async () => (await runOf(liveJob!.jobid)) !== null, 2 * minute, 500),
      waitFor(async () => !(await sessionAlive(hostileSession)) && !(await roleExists(server, hostile)), 2 * minute, 500),
    ]);
    expect(ended, `the expire job: ${await runOf(jobs[0]!.jobid)}`).toBe(true);
    expect(hostileEnded).toBe(true);
    expect(decoyRan && liveRan).toBe(true);
    expect(await runOf(decoyJob!.jobid)).toBe('succeeded');
    expect(await runOf(liveJob!.jobid)).toBe('succeeded');
    expect(await roleExists(server, decoy)).toBe(true);
    expect(await sessionAlive(decoySession)).toBe(true);
    expect(await roleExists(server, live.user)).toBe(true);
    expect(await sessionAlive(liveSession)).toBe(true);

    // The cleanup jobs: both jobs go once the login is gone or is no jit login; a live jit login keeps its own.
    const [killedClean, hostileClean, decoyClean] = await Promise.all([
      waitFor(async () => (await jobsOf(minted.user)).length === 0, 2 * minute + 15_000, 1_000),
      waitFor(async () => (await jobsOf(hostile)).length === 0, 2 * minute + 15_000, 1_000),
      waitFor(async () => (await jobsOf(decoy)).length === 0, 2 * minute + 15_000, 1_000),
    ]);
    expect([killedClean, hostileClean, decoyClean]).toEqual([true, true, true]);
    expect((await jobsOf(live.user)).length).toBe(2);

    // extend moves both jobs to the new expiry; revoke removes them.
    const ext = await early.run(['extend', live.id, '--ttl', '30m', '--json']);
    expect(ext.code, ext.stderr).toBe(0);
    const moved = await jobsOf(live.user);
    const newExpiry = String((JSON.parse(ext.stdout) as { expires_at: string }).expires_at);
    expect(moved[0]!.schedule).toBe(cronLine(newExpiry));
    expect(moved[1]!.schedule).toBe(cronLine(new Date(Date.parse(newExpiry) + minute).toISOString()));
    const rev = await early.run(['revoke', live.id]);
    expect(rev.code, rev.stderr).toBe(0);
    expect(await jobsOf(live.user)).toEqual([]);
  }, 6 * 60_000);

  it('the reaper revoking at expiry removes the jobs too', async () => {
    const w = await world();
    const minted = await mintUri(w, ['--role', 'short', '--ttl', '5s']);
    expect((await jobsOf(minted.user)).length).toBe(2);
    const expiresAt = Date.parse(minted.expires_at);
    expect(await waitFor(async () => !(await roleExists(server, minted.user)) && (await jobsOf(minted.user)).length === 0, expiresAt + 15_000 - Date.now(), 250)).toBe(true);
  });

  it('jit reap removes jobs whose login is gone; revoke --all removes the jobs of what it revokes', async () => {
    const w = await world();
    const dropped = await mintUri(w, ['--role', 'readonly']);
    // Dropped by hand, as the admin (a superuser's DROP OWNED would leave the admin's grants).
    const su = await server.connectAs(admin.user, admin.password, HOSTILE_DB);
    try {
      await su.query(`DROP OWNED BY ${ident(dropped.user)}`);
      await su.query(`DROP ROLE ${ident(dropped.user)}`);
    } finally {
      await su.end();
    }
    expect((await jobsOf(dropped.user)).length).toBe(2);
    const reap = await w.run(['reap']);
    expect(reap.code, reap.stderr).toBe(0);
    expect(reap.stderr).toContain(`removed stale expiry job jit:expire:${dropped.user} on testdb`);
    expect(reap.stderr).toContain(`removed stale expiry job jit:cleanup:${dropped.user} on testdb`);
    expect(await jobsOf(dropped.user)).toEqual([]);

    // An expired login that no reaper watched: reap revokes it, and its jobs go with it.
    const unwatched = await world();
    const expired = await mintUri(unwatched, ['--role', 'short', '--ttl', '5s'], { env: { JIT_NO_REAPER: '1' } });
    expect((await jobsOf(expired.user)).length).toBe(2);
    await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(expired.expires_at) - Date.now()) + 1_000));
    const reaped = await unwatched.run(['reap'], { env: { JIT_NO_REAPER: '1' } });
    expect(reaped.code, reaped.stderr).toBe(0);
    expect(await roleExists(server, expired.user)).toBe(false);
    expect(await jobsOf(expired.user)).toEqual([]);

    const a = await mintUri(w, ['--role', 'readonly']);
    const b = await mintUri(w, ['--role', 'readonly']);
    expect((await jobsOf(a.user)).length + (await jobsOf(b.user)).length).toBe(4);
    const all = await w.run(['revoke', '--all', '--yes']);
    expect(all.code, all.stderr).toBe(0);
    expect([...(await jobsOf(a.user)), ...(await jobsOf(b.user))]).toEqual([]);
  });

  it('doctor names the backstop, and for an admin that may not use pg_cron the GRANT that fixes it; minting then works as without pg_cron', async () => {
    const ok = await world();
    const d = await ok.run(['doctor', 'testdb']);
    expect(d.stdout).toMatch(/^ok {4}testdb: session backstop: pg_cron 1\.4-1 \(database postgres\): at the first minute after expiry a one-shot job ends the login's sessions and drops it, even when no jit runs$/m);

    // An admin with README's non-superuser grants but not the pg_cron block.
    const bare = { user: `${server.requester}_bare`, password: generatePassword() };
    const su = await server.admin(HOSTILE_DB);
    try {
      await su.query(`CREATE ROLE ${ident(bare.user)} LOGIN CREATEROLE PASSWORD ${pg.escapeLiteral(bare.password)}`);
      await su.query(`GRANT SELECT ON public.orders, public.customers TO ${ident(bare.user)} WITH GRANT OPTION`);
    } finally {
      await su.end();
    }
    const hidden = await world(bare);
    const h = await hidden.run(['doctor', 'testdb']);
    expect(h.stdout).toContain(
      `ok    testdb: session backstop: none: VALID UNTIL blocks new logins only; a session open at expiry lives on until the reaper or \`jit reap\` revokes the login ` +
        `(${bare.user} cannot see whether pg_cron runs; to let jit find it: GRANT pg_read_all_stats TO ${bare.user})`,
    );
    const grant = await server.admin(HOSTILE_DB);
    try {
      await grant.query(`GRANT pg_read_all_stats TO ${ident(bare.user)}`);
    } finally {
      await grant.end();
    }
    const u = await hidden.run(['doctor', 'testdb']);
    expect(u.stdout).toContain(
      `warn  testdb: session backstop: none: VALID UNTIL blocks new logins only; a session open at expiry lives on until the reaper or \`jit reap\` revokes the login; ` +
        `pg_cron runs, but: ${bare.user} may not schedule pg_cron jobs; fix, as a superuser in database postgres: GRANT USAGE ON SCHEMA cron TO ${bare.user}; ` +
        `GRANT EXECUTE ON FUNCTION cron.schedule_in_database(text, text, text, text, text, boolean) TO ${bare.user}`,
    );
    const minted = await mintUri(hidden, ['--role', 'readonly']);
    expect(await jobsOf(minted.user)).toEqual([]);
    expect(passwordOf(minted.uri)).toBe(minted.password);
    const rev = await hidden.run(['revoke', minted.id]);
    expect(rev.code, rev.stderr).toBe(0);
    const drop = await server.admin(HOSTILE_DB);
    try {
      await drop.query(`DROP OWNED BY ${ident(bare.user)}`);
      await drop.query(`DROP ROLE ${ident(bare.user)}`);
    } finally {
      await drop.end();
    }
  });
});

describe('a pg_cron that refuses the job', () => {
  const server = usePgCron({ exclusive: true });
  let admin: ReadmeAdmin;
  let w: JitWorld;
  /** Make pg_cron's cron.job refuse rows (`ops`: INSERT, UPDATE) or take them again. */
  const refuse = async (ops: string | null) => {
    const c = await server.admin(CRON_DATABASE);
    try {
      await c.query('DROP TRIGGER IF EXISTS jit_test_refuse ON cron.job');
      if (ops) {
        await c.query(`CREATE OR REPLACE FUNCTION public.jit_test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RAISE EXCEPTION 'refused by the test'; END$$`);
        await c.query(`CREATE TRIGGER jit_test_refuse BEFORE ${ops} ON cron.job FOR EACH ROW EXECUTE FUNCTION public.jit_test_refuse()`);
      }
    } finally {
      await c.end();
    }
  };
  beforeAll(async () => {
    admin = await createReadmeAdmin(server, (a) => `GRANT pg_read_all_stats TO ${ident(a)}`);
    const cron = await server.admin(CRON_DATABASE);
    try {
      await cron.query(readmeSqlBlock('pg-cron-admin-sql').replaceAll(README_ADMIN, admin.user));
    } finally {
      await cron.end();
    }
    w = await makeWorld(server, { policy: testPolicy(server).replace('user: postgres', `user: ${admin.user}`), env: { JIT_TEST_ADMIN_PW: admin.password } });
  });
  afterAll(async () => {
    await refuse(null);
    await w.cleanup();
  });

  it('a mint whose job cannot be scheduled is undone and fails; an extend whose job cannot be moved changes nothing', async () => {
    await refuse('INSERT');
    const res = await w.run(['uri', 'testdb', '--role', 'readonly']);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/^error: could not schedule the pg_cron job that ends jit_\S+ at expiry: refused by the test; no login was handed out$/m);
    expect(res.stdout).toBe('');
    const login = /ends (jit_\S+) at expiry/.exec(res.stderr)![1]!;
    expect(await roleExists(server, login)).toBe(false);

    await refuse('UPDATE');
    const minted = await mintUri(w, ['--role', 'readonly', '--ttl', '10m']);
    const before = await roleRecord(server, minted.user);
    const ext = await w.run(['extend', minted.id, '--ttl', '30m']);
    expect(ext.code).toBe(1);
    expect(ext.stderr).toMatch(/^error: could not move the pg_cron job that ends jit_\S+ at expiry: refused by the test; the expiry was not changed$/m);
    expect((await roleRecord(server, minted.user))!.validUntil).toEqual(before!.validUntil);
    await refuse(null);
    expect((await w.run(['revoke', minted.id])).code).toBe(0);
  });
});

describe('a server without pg_cron', () => {
  const server = usePostgres(15);
  let w: JitWorld;
  beforeAll(async () => {
    w = await makeWorld(server, { policy: testPolicy(server) });
  });
  afterAll(async () => {
    await w.cleanup();
  });

  it('doctor says there is no session backstop', async () => {
    const d = await w.run(['doctor', 'testdb']);
    expect(d.stdout).toContain(
      'ok    testdb: session backstop: none: VALID UNTIL blocks new logins only; a session open at expiry lives on until the reaper or `jit reap` revokes the login\n',
    );
  });
});
