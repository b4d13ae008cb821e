/**
 * The policy's per-role session limits, each proven with a real session of a minted login:
 * statement_timeout, idle_timeout and transaction_timeout on PostgreSQL (15 and 18), and
 * statement_timeout as MAX_STATEMENT_TIME on MariaDB. Limits are 1s; every test waits for the
 * server's own outcome (an error code, a closed connection), never for a time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { usePostgres, useMariadb } from '../helpers/servers.js';
import { makeWorld, testPolicy, type JitWorld } from '../helpers/jit-cli.js';
import { mysqlPolicy, mysqlSession } from '../helpers/mysql-cli.js';
import { mintUri } from './support.js';

/** testPolicy plus roles carrying each limit. */
function limitsPolicy(server: Parameters<typeof testPolicy>[0]): string {
  const grant = '        grants:\n          - privileges: [SELECT]\n            tables: [public.orders]\n';
  return (
    testPolicy(server) +
    `      stmt:\n        statement_timeout: 1s\n${grant}` +
    `      idle:\n        idle_timeout: 1s\n${grant}` +
    `      txn:\n        transaction_timeout: 1s\n${grant}`
  );
}

/** A connected client as the URI's login; the server ending it must not crash the test. */
async function session(uri: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: uri });
  c.on('error', () => {});
  await c.connect();
  return c;
}

/** Resolves with the error the server ends the session with (FATAL), once the connection has closed. */
function ended(c: pg.Client): Promise<{ code?: string }> {
  return new Promise((resolve) => {
    let first: { code?: string } | undefined;
    c.on('error', (err) => (first ??= err as { code?: string }));
    c.on('end', () => resolve(first ?? {}));
  });
}

const open: pg.Client[] = [];
afterAll(async () => {
  for (const c of open.splice(0)) await c.end().catch(() => {});
});

for (const version of [15, 18] as const) {
  describe(`PostgreSQL ${version}: session limits of a minted login`, () => {
    const server = usePostgres(version);
    let w: JitWorld;
    beforeAll(async () => {
      w = await makeWorld(server, { policy: limitsPolicy(server) });
    });
    afterAll(async () => {
      await w?.cleanup();
    });

    it('statement_timeout: a statement longer than the limit fails with 57014, and the session stays usable', async () => {
      const m = await mintUri(w, ['--role', 'stmt']);
      const c = await session(m.uri);
      open.push(c);
      expect((await c.query('SHOW statement_timeout')).rows[0].statement_timeout).toBe('1s');
      await expect(c.query('SELECT pg_sleep(60)')).rejects.toMatchObject({ code: '57014' });
      expect((await c.query('SELECT 1 AS one')).rows[0].one).toBe(1);
    });

    it('idle_timeout: the server closes a session idle outside a transaction (57P05) and one idle inside one (25P03)', async () => {
      const m = await mintUri(w, ['--role', 'idle']);
      const idle = await session(m.uri);
      const inTxn = await session(m.uri);
      open.push(idle, inTxn);
      const idleEnd = ended(idle);
      const txnEnd = ended(inTxn);
      await idle.query('SELECT 1');
      await inTxn.query('BEGIN');
      await inTxn.query('SELECT 1');
      expect(await idleEnd).toMatchObject({ code: '57P05' });
      expect(await txnEnd).toMatchObject({ code: '25P03' });
    });

    if (version >= 17) {
      it('transaction_timeout: the server ends a session whose transaction outlives the limit (25P04)', async () => {
        const m = await mintUri(w, ['--role', 'txn']);
        const c = await session(m.uri);
        open.push(c);
        const end = ended(c);
        await c.query('BEGIN');
        // A statement that outlasts the transaction's limit: the server ends the session under it.
        await expect(c.query('SELECT pg_sleep(60)')).rejects.toMatchObject({ code: '25P04' });
        await end;
      });
    } else {
      it('transaction_timeout on a server older than 17: the mint is refused with exit 2 and one clear line, and no login is left', async () => {
        const before = await server.admin().then(async (a) => {
          try {
            return (await a.query(`SELECT count(*)::int AS n FROM pg_roles WHERE starts_with(rolname, $1)`, [`jit_${server.requester}_`])).rows[0].n as number;
          } finally {
            await a.end();
          }
        });
        const r = await w.run(['uri', 'testdb', '--role', 'txn']);
        expect(r.code).toBe(2);
        expect(r.stdout).toBe('');
        const lines = r.stderr.trim().split('\n');
        expect(lines[0]).toMatch(/^error: on 127\.0\.0\.1:\d+, transaction_timeout needs PostgreSQL 17 or later; this server is 15\.\d+.*; no login was minted$/);
        expect(lines[1]).toBe('hint: remove transaction_timeout from the role in the policy (statement_timeout and idle_timeout work on older servers)');
        const after = await server.admin().then(async (a) => {
          try {
            return (await a.query(`SELECT count(*)::int AS n FROM pg_roles WHERE starts_with(rolname, $1)`, [`jit_${server.requester}_`])).rows[0].n as number;
          } finally {
            await a.end();
          }
        });
        expect(after).toBe(before);
      });
    }
  });
}

describe('MariaDB: statement_timeout is the account\'s MAX_STATEMENT_TIME', () => {
  const server = useMariadb();
  let w: JitWorld;
  beforeAll(async () => {
    const policy = mysqlPolicy(server) + '      stmt:\n        statement_timeout: 1s\n        grants:\n          - privileges: [SELECT]\n            tables: [orders]\n';
    w = await makeWorld(server, { policy });
  });
  afterAll(async () => {
    await w?.cleanup();
  });

  it('a statement longer than the limit is interrupted (1969), and the session stays usable', async () => {
    const m = await mintUri(w, ['--role', 'stmt']);
    const c = await mysqlSession(m.uri);
    try {
      const [[row]] = (await c.query('SELECT @@max_statement_time AS t')) as unknown as [[{ t: string | number }]];
      expect(Number(row.t)).toBe(1);
      await expect(c.query('SELECT SLEEP(60) FROM orders')).rejects.toMatchObject({ errno: 1969 });
      const [[one]] = (await c.query('SELECT 1 AS one')) as unknown as [[{ one: number }]];
      expect(one.one).toBe(1);
    } finally {
      await c.end().catch(() => c.destroy());
    }
  });
});
