import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usePostgres } from '../helpers/servers.js';
import { makeWorld, roleExists, testPolicy, type JitWorld } from '../helpers/jit-cli.js';

// Two policy databases on one PostgreSQL server share its roles: each login must be listed,
// revoked and counted once, under the policy database that minted it.

// Exclusive: list --all, revoke --all and reap act on every login of the server.
const pg = usePostgres(15, { exclusive: true });
let w: JitWorld;

beforeAll(async () => {
  const second = testPolicy(pg, 'reports-db').replace(/^version: 1\ndatabases:\n/, '');
  w = await makeWorld(pg, { policy: testPolicy(pg, 'app-db') + second });
});
afterAll(async () => {
  await w?.cleanup();
});

describe('policy databases sharing one server', () => {
  it('list --all shows each login once; revoke --all --database touches only that database', async () => {
    const app = JSON.parse((await w.run(['uri', 'app-db', '--role', 'readonly', '--json'])).stdout);
    const rep = JSON.parse((await w.run(['uri', 'reports-db', '--role', 'readonly', '--json'])).stdout);
    const all = JSON.parse((await w.run(['list', '--all', '--json'])).stdout);
    expect(all.filter((r: { user: string }) => r.user === app.user).map((r: { database: string }) => r.database)).toEqual(['app-db']);
    expect(all.filter((r: { user: string }) => r.user === rep.user).map((r: { database: string }) => r.database)).toEqual(['reports-db']);

    const only = await w.run(['revoke', '--all', '--database', 'reports-db', '--yes']);
    expect(only.code).toBe(0);
    expect(await roleExists(pg, rep.user)).toBe(false);
    expect(await roleExists(pg, app.user)).toBe(true);
    const left = JSON.parse((await w.run(['list', '--json'])).stdout).map((l: { id: string }) => l.id);
    expect(left).toContain(app.id);
    expect(left).not.toContain(rep.id);

    const rest = await w.run(['revoke', '--all', '--yes']);
    expect(rest.code).toBe(0);
    expect(rest.stderr).not.toMatch(/failed/);
    expect(rest.stderr.match(new RegExp(`revoked ${app.user}`, 'g'))).toHaveLength(1);
    expect(await roleExists(pg, app.user)).toBe(false);
  });

  it('exec without a database asks for one on a terminal, and without one says which flag is missing', async () => {
    const r = await w.run(['exec', '--role', 'readonly', '--', 'true']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: missing database/m);
    expect(r.stderr).toMatch(/^hint: .*app-db, reports-db/m);
  });
});

describe('a jit login whose lease comment was edited by hand', () => {
  it('is still jit\'s (marker membership): revoke --all and reap find it', async () => {
    // Minted where no reaper runs, so only `jit reap` can clean them up.
    const minter = await makeWorld(pg, { policy: testPolicy(pg, 'app-db'), env: { JIT_NO_REAPER: '1' } });
    const a = JSON.parse((await minter.run(['uri', 'app-db', '--role', 'readonly', '--json'])).stdout);
    const b = JSON.parse((await minter.run(['uri', 'app-db', '--role', 'short', '--ttl', '5s', '--json'])).stdout);
    await minter.cleanup();
    const admin = await pg.admin();
    try {
      for (const login of [a.user, b.user]) await admin.query(`COMMENT ON ROLE "${login}" IS 'edited by a DBA'`);
    } finally {
      await admin.end();
    }
    const other = await makeWorld(pg, { policy: testPolicy(pg, 'app-db') });
    try {
      await new Promise((r) => setTimeout(r, 6_000));
      const reaped = await other.run(['reap', '--json']);
      expect(reaped.code).toBe(0);
      expect(JSON.parse(reaped.stdout).map((o: { login: string }) => o.login)).toEqual([b.user]);
      expect(await roleExists(pg, b.user)).toBe(false);
      expect(await roleExists(pg, a.user)).toBe(true);
      const all = await other.run(['revoke', '--all', '--yes']);
      expect(all.code).toBe(0);
      expect(await roleExists(pg, a.user)).toBe(false);
    } finally {
      await other.cleanup();
    }
  });
});

