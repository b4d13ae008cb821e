import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from 'pg';
import { usePostgres } from '../helpers/servers.js';
import { makeWorld, waitFor, type JitWorld } from '../helpers/jit-cli.js';
import { MINT_LOCK_KEY } from '../../src/engines/postgres/postgres-sql.js';

// A mint held up on the server (another mint's lock) still hands out the whole TTL: it is counted
// from when the login exists, on the server too, not from when jit started asking.

const pg = usePostgres(15, { exclusive: true });
let w: JitWorld;
let holder: Client | undefined;

beforeAll(async () => {
  w = await makeWorld(pg);
});
afterAll(async () => {
  await holder?.end().catch(() => {});
  await w?.cleanup();
});

describe('a mint that waited for a lock', () => {
  it('gets its full --ttl, counted from creation, in the lease, the marker and VALID UNTIL', async () => {
    holder = await pg.admin();
    await holder.query('BEGIN');
    await holder.query(`SELECT pg_catalog.pg_advisory_xact_lock(${MINT_LOCK_KEY})`);
    const minting = w.run(['uri', 'testdb', '--role', 'readonly', '--ttl', '1m', '--json']);
    // Hold the lock while the mint really waits for it, for a few seconds more.
    const waiting = async () =>
      (await holder!.query("SELECT count(*)::int AS n FROM pg_catalog.pg_locks WHERE locktype = 'advisory' AND NOT granted")).rows[0].n > 0;
    expect(await waitFor(waiting, 20_000)).toBe(true);
    await new Promise((r) => setTimeout(r, 3_000));
    const released = Date.now();
    await holder.query('COMMIT');
    const r = await minting;
    expect(r.code, r.stderr).toBe(0);
    const m = JSON.parse(r.stdout) as { id: string; user: string; expires_at: string };
    // The expiry is a full minute after the lock went, not after the mint began (3 s or more earlier).
    expect(Date.parse(m.expires_at) - released).toBeGreaterThanOrEqual(59_000);
    const [lease] = JSON.parse((await w.run(['list', '--json'])).stdout) as Array<{ id: string; created_at: string; expires_at: string }>;
    expect(Date.parse(lease!.expires_at) - Date.parse(lease!.created_at)).toBe(60_000);
    const role = (await holder.query("SELECT rolvaliduntil, pg_catalog.shobj_description(oid, 'pg_authid') AS marker FROM pg_catalog.pg_roles WHERE rolname = $1", [m.user])).rows[0];
    expect(new Date(role.rolvaliduntil).toISOString()).toBe(m.expires_at);
    expect(JSON.parse(role.marker)).toMatchObject({ id: m.id, created_at: lease!.created_at, expires_at: m.expires_at });
    expect((await w.run(['revoke', m.id])).code).toBe(0);
  });
});
