/**
 * The command of a login's `jit:expire:` pg_cron job (postgres-cron-sql.ts), run here directly
 * as the admin, the way pg_cron runs it, without waiting for pg_cron's minute: it is plain SQL,
 * so the run's PostgreSQL 15 serves. pg_cron itself running it is test/e2e/pg-cron-backstop.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import type { AdminSession, LeaseMarker } from '../../src/engines/engine.js';
import { postgresEngine } from '../../src/engines/postgres/postgres-engine.js';
import { CLEANUP_JOB_PREFIX, EXPIRE_JOB_PREFIX, expireJobSql, jobNameSql } from '../../src/engines/postgres/postgres-cron-sql.js';
import { createHash } from 'node:crypto';
import { generatePassword } from '../../src/core/random.js';
import { usePostgres } from '../helpers/servers.js';

const server = usePostgres(15);
const ident = (s: string) => pg.escapeIdentifier(s);
const clients: pg.Client[] = [];
let su: pg.Client;
let owner: string;

beforeAll(async () => {
  su = await server.admin();
  // A hostile owner name: the job quotes it.
  owner = `${server.requester}_o'wn"er`;
  await su.query(`CREATE ROLE ${ident(owner)} NOLOGIN`);
});

afterAll(async () => {
  for (const c of clients) await c.end().catch(() => {});
  await su.query(`DROP OWNED BY ${ident(owner)}`).catch(() => {});
  await su.query(`DROP ROLE IF EXISTS ${ident(owner)}`).catch(() => {});
  await su.end();
});

/** Mint `login` through the engine with the policy owner, expiring in `ms`; it may create tables in public. */
async function mint(login: string, ms: number): Promise<{ password: string; session: AdminSession }> {
  const session = await postgresEngine.connectAdmin(server.target({ owner }), server.adminPassword);
  const now = await session.serverTime();
  const at = new Date(now.getTime() + ms);
  const marker: LeaseMarker = {
    id: login, database: 'testdb', role: 'r', requester: server.requester, requester_host: 'h',
    created_at: now.toISOString(), expires_at: at.toISOString(), max_expires_at: at.toISOString(),
  };
  const password = generatePassword();
  await session.mint({ login, password, expiresAt: at, grants: [{ privileges: ['SELECT'], tables: [{ schema: 'public', name: 'orders' }] }], memberOf: [], connectionLimit: -1, marker });
  await su.query(`GRANT CREATE ON SCHEMA public TO ${ident(login)}`);
  return { password, session };
}

async function sessionAs(login: string, password: string): Promise<pg.Client> {
  const c = await server.connectAs(login, password);
  clients.push(c);
  return c;
}

const alive = (c: pg.Client) => c.query('SELECT 1').then(() => true, () => false);
const role = async (login: string) => (await su.query('SELECT rolcanlogin FROM pg_catalog.pg_roles WHERE rolname = $1', [login])).rows[0] as { rolcanlogin: boolean } | undefined;

describe('the expire job', () => {
  it('ends the sessions of an expired login, hands what it created to the owner, and drops it', async () => {
    const login = `jit_${server.requester}_own${Date.now() % 100000}`;
    const { password, session } = await mint(login, 1_500);
    const c = await sessionAs(login, password);
    const table = `${server.requester}_made"by'job`;
    await c.query(`CREATE TABLE public.${ident(table)} (id int)`);
    // Not expired yet: nothing happens.
    await su.query(expireJobSql(login, owner));
    expect(await alive(c)).toBe(true);
    await new Promise((r) => setTimeout(r, 2_000));
    await su.query(expireJobSql(login, owner));
    expect(await alive(c)).toBe(false);
    expect(await role(login)).toBeUndefined();
    const owned = await su.query(`SELECT pg_catalog.pg_get_userbyid(relowner) AS owner FROM pg_catalog.pg_class WHERE oid = $1::regclass`, [`public.${ident(table)}`]);
    expect(owned.rows[0].owner).toBe(owner);
    // A second run, and the revoke that comes too late, find nothing to do.
    await su.query(expireJobSql(login, owner));
    expect((await session.revoke({ login })).alreadyGone).toBe(true);
    await session.close();
    await su.query(`DROP TABLE public.${ident(table)}`);
  });

  it('an owner that is no ordinary role any more receives nothing: the login stays blocked, its sessions ended', async () => {
    const login = `jit_${server.requester}_unsafe${Date.now() % 100000}`;
    const { password, session } = await mint(login, 1_500);
    const c = await sessionAs(login, password);
    await su.query(`ALTER ROLE ${ident(owner)} CREATEROLE`);
    try {
      await new Promise((r) => setTimeout(r, 2_000));
      await su.query(expireJobSql(login, owner));
      expect(await alive(c)).toBe(false);
      expect(await role(login)).toEqual({ rolcanlogin: false });
    } finally {
      await su.query(`ALTER ROLE ${ident(owner)} NOCREATEROLE`);
    }
    const res = await session.revoke({ login });
    expect(res.gone, res.errors.join('; ')).toBe(true);
    await session.close();
  });
});

describe('job names', () => {
  it('are the login after the prefix while that fits pg_cron\'s 63-byte name, else the md5 of the login', async () => {
    const name = async (prefix: string, login: string) => String((await su.query(`SELECT ${jobNameSql(prefix, '$1::text')} AS n`, [login])).rows[0].n);
    const short = 'jit_alice_0123456789ab';
    expect(await name(EXPIRE_JOB_PREFIX, short)).toBe(`jit:expire:${short}`);
    expect(await name(CLEANUP_JOB_PREFIX, short)).toBe(`jit:cleanup:${short}`);
    const long = `jit_${'r'.repeat(46)}_0123456789ab`; // 63 bytes, the longest login
    const md5 = createHash('md5').update(long).digest('hex');
    expect(await name(EXPIRE_JOB_PREFIX, long)).toBe(`jit:expire:~${md5}`);
    expect(await name(CLEANUP_JOB_PREFIX, long)).toBe(`jit:cleanup:~${md5}`);
    expect(Buffer.byteLength(`jit:cleanup:~${md5}`)).toBeLessThanOrEqual(63);
  });
});
