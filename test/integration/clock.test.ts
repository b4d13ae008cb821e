import { describe, expect, it } from 'vitest';
import { usePostgres } from '../helpers/servers.js';
import { testDeps } from '../helpers/deps.js';
import { mintLease } from '../../src/lifecycle/mint.js';
import { isDue } from '../../src/leases/lease.js';

// Expiry is counted on the server's clock: a laptop whose clock is an hour off must neither
// get a login that outlives max_ttl nor one that is already expired.

const pg = usePostgres(15);

async function validUntil(login: string): Promise<number> {
  const c = await pg.admin();
  try {
    return (await c.query('SELECT rolvaliduntil FROM pg_roles WHERE rolname = $1', [login])).rows[0].rolvaliduntil.getTime();
  } finally {
    await c.end();
  }
}

describe('a local clock that is off', () => {
  for (const [name, offset] of [['an hour ahead', 3_600_000], ['ten minutes behind', -600_000]] as const) {
    it(`${name}: VALID UNTIL and the lease are server now + ttl, and "due" follows the server`, async () => {
      const deps = await testDeps(pg, { now: () => Date.now() + offset });
      const realBefore = Date.now();
      const { lease } = await mintLease({ database: 'testdb', role: 'readonly', ttl: '5m', command: 'uri', handout: 'handout' }, deps);
      const expires = Date.parse(lease.expiresAt);
      expect(Math.abs(expires - (realBefore + 300_000))).toBeLessThan(3_000);
      expect(Math.abs((await validUntil(lease.user)) - expires)).toBeLessThan(1_000);
      expect(Math.abs(lease.clockSkewMs + offset)).toBeLessThan(3_000);
      expect(Date.parse(lease.maxExpiresAt) - Date.parse(lease.createdAt)).toBe(3_600_000);
      // The lease is due when the *server* passes expiry, whatever the local clock says.
      expect(isDue(lease, Date.now() + offset)).toBe(false);
      expect(isDue(lease, expires - lease.clockSkewMs + 1)).toBe(true);
    });
  }
});
