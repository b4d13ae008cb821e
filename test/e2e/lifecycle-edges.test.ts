/**
 * Lifecycle edges: extend after expiry, leases revoked from another machine, a login this admin
 * cannot drop.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PgServer } from '../helpers/pg-server.js';
import { usePostgres } from '../helpers/servers.js';
import { makeWorld, roleExists, testPolicy as testPolicyFor, waitFor, type JitWorld } from '../helpers/jit-cli.js';
import { canLogin, mintUri } from './support.js';

let server: PgServer;
const worlds: JitWorld[] = [];
const world = async (env?: NodeJS.ProcessEnv, policy?: string) => {
  const w = await makeWorld(server, { env, policy });
  worlds.push(w);
  return w;
};

afterAll(async () => {
  for (const w of worlds) await w.cleanup().catch(() => {});
});

/** The scope's server becomes `server` for the helpers above. */
function onServer(exclusive: boolean): void {
  const scope = usePostgres(15, { exclusive });
  beforeAll(() => {
    server = scope;
  });
}

async function validUntil(login: string): Promise<string | null> {
  const admin = await server.admin();
  try {
    const { rows } = await admin.query('SELECT rolvaliduntil::text AS v FROM pg_roles WHERE rolname = $1', [login]);
    return rows[0]?.v ?? null;
  } finally {
    await admin.end();
  }
}

describe('on the shared server', () => {
  onServer(false);

  describe('extend on an expired lease', () => {
    it('refuses locally once the lease is past its expiry, and the login stays dead', async () => {
      // No reaper: the expired login is still on the server, as after a laptop sleep.
      const w = await world({ JIT_NO_REAPER: '1' });
      const minted = await mintUri(w, ['--role', 'short', '--ttl', '5s']);
      expect(await waitFor(async () => !(await canLogin(minted.uri)), 15_000, 250)).toBe(true);
      const before = await validUntil(minted.user);
      const res = await w.run(['extend', minted.id, '--ttl', '30s']);
      expect(res.code).toBe(2);
      expect(res.stderr).toMatch(/^error: lease \S+ \(jit_\S+\) expired .* ago; expired is final\nhint: mint a new login/);
      expect(await validUntil(minted.user)).toBe(before);
      expect(await canLogin(minted.uri)).toBe(false);
    });

    it("refuses on the server when the server's clock says the login expired, whatever the lease file says", async () => {
      const w = await world({ JIT_NO_REAPER: '1' });
      const minted = await mintUri(w, ['--role', 'readonly', '--ttl', '15m']);
      const admin = await server.admin();
      try {
        await admin.query(`ALTER ROLE "${minted.user}" VALID UNTIL '2001-01-01 00:00:00+00'`);
      } finally {
        await admin.end();
      }
      const res = await w.run(['extend', minted.id, '--ttl', '30m']);
      expect(res.code).toBe(1);
      expect(res.stderr).toMatch(new RegExp(`^error: login ${minted.user} has already expired by the clock of 127\\.0\\.0\\.1:\\d+; expired is final\\nhint: mint a new login`));
      expect(await validUntil(minted.user)).toBe('2001-01-01 00:00:00+00');
      expect(await canLogin(minted.uri)).toBe(false);
    });
  });

  describe('jit list after the login was revoked from another machine', () => {
    it('no longer lists the lease as active: it says revoked-elsewhere once, removes the file and audits it', async () => {
      const w = await world({ JIT_NO_REAPER: '1' });
      const gone = await mintUri(w, ['--role', 'readonly']);
      const kept = await mintUri(w, ['--role', 'writer']);
      // Another machine's `revoke --all` (or a DBA): the role disappears behind this machine's back.
      const admin = await server.admin();
      try {
        await admin.query(`DROP OWNED BY "${gone.user}"`);
        await admin.query(`DROP ROLE "${gone.user}"`);
      } finally {
        await admin.end();
      }
      const res = await w.run(['list']);
      expect(res.code, res.stderr).toBe(0);
      expect(res.stdout).toMatch(new RegExp(`${gone.id} .*${gone.user} .* revoked-elsewhere \\(login gone from the server; lease removed\\)`));
      expect(res.stdout).toMatch(new RegExp(`${kept.id} .*${kept.user} .* active$`, 'm'));

      const json = JSON.parse((await w.run(['list', '--json'])).stdout) as Array<{ id: string; state: string }>;
      expect(json.map((l) => [l.id, l.state])).toEqual([[kept.id, 'active']]);
      const audit = JSON.parse((await w.run(['audit', '--json'])).stdout) as Array<Record<string, unknown>>;
      expect(audit).toContainEqual(expect.objectContaining({ event: 'revoke', cause: 'revoked-elsewhere', lease: gone.id, login: gone.user }));
      expect((await w.run(['revoke', kept.id])).code).toBe(0);
    });

    it('says when the server could not be reached, and shows the lease as active, unverified', async () => {
      const w = await world({ JIT_NO_REAPER: '1' });
      const minted = await mintUri(w, ['--role', 'readonly']);
      const blind = await w.run(['list'], { env: { JIT_TEST_ADMIN_PW: 'wrong-password' } });
      expect(blind.code).toBe(0);
      expect(blind.stdout).toMatch(new RegExp(`${minted.id} .* active \\(unverified\\)$`, 'm'));
      expect(blind.stderr).toMatch(/^warning: testdb: could not check its leases on the server \(.*password authentication failed.*\); they are shown as active, unverified$/m);
      const json = JSON.parse((await w.run(['list', '--json'], { env: { JIT_TEST_ADMIN_PW: 'wrong-password' } })).stdout) as Array<Record<string, unknown>>;
      expect(json).toEqual([expect.objectContaining({ id: minted.id, state: 'active', verified: false })]);
      expect(await roleExists(server, minted.user)).toBe(true);
      expect((await w.run(['revoke', minted.id])).code).toBe(0);
    });
  });
});

/** The test policy with another admin, e.g. a non-superuser one. */
function policyWithAdmin(user: string, env: string): string {
  return testPolicyFor(server).replace('user: postgres', `user: ${user}`).replace('env:JIT_TEST_ADMIN_PW', `env:${env}`);
}

describe('with the server to itself (revoke --all, pg_hba.conf)', () => {
  onServer(true);

  describe('a login minted through a superuser admin, revoked by a non-superuser admin', () => {
    it('is reported in one line naming the login, why, and what to do; exit 1', async () => {
      const admin = await server.admin();
      try {
        await admin.query(`CREATE ROLE limited_rev LOGIN CREATEROLE PASSWORD 'limited-rev-pw'`);
        await admin.query('GRANT pg_signal_backend TO limited_rev');
        await admin.query('GRANT SELECT ON public.orders, public.customers TO limited_rev WITH GRANT OPTION');
      } finally {
        await admin.end();
      }
      const minter = await world({ JIT_NO_REAPER: '1' });
      const minted = await mintUri(minter, ['--role', 'readonly']);
      const oncall = await world({ LIMITED_PW: 'limited-rev-pw', JIT_NO_REAPER: '1' }, policyWithAdmin('limited_rev', 'LIMITED_PW'));
      const res = await oncall.run(['revoke', minted.user]);
      const why = (login: string) =>
        `${login} is blocked (NOLOGIN) but not dropped: limited_rev cannot remove what another admin granted it (2BP01); ` +
        'revoke it with the policy whose admin minted it, or as a superuser';
      expect(res.code).toBe(1);
      expect(res.stderr).toBe(`failed ${minted.user} on testdb: ${why(minted.user)}\n`);
      expect(await roleExists(server, minted.user)).toBe(true);
      expect(await canLogin(minted.uri)).toBe(false);
      const all = await oncall.run(['revoke', '--all', '--yes']);
      expect(all.code).toBe(1);
      expect(all.stderr.split('\n')).toContain(`failed ${minted.user} on testdb: ${why(minted.user)}`);
      // The superuser policy still revokes it.
      expect((await minter.run(['revoke', minted.id])).code).toBe(0);
      expect(await roleExists(server, minted.user)).toBe(false);
    });
  });

  describe('doctor and pg_hba.conf', () => {
    it('warns of a trust line that lets minted logins in past VALID UNTIL', async () => {
      const w = await world();
      // initdb's default `local all all trust` (the test clusters keep it) already lets a minted
      // login in over the unix socket without its password, expired or not.
      const before = await w.run(['doctor', 'testdb']);
      expect(before.stdout).toMatch(/^warn {2}testdb: pg_hba\.conf: .* through line \d+: local all all trust$/m);

      await server.editHba((hba) => `${hba}\nhost ${server.database} all 10.255.255.1/32 trust\n`);
      const admin = await server.admin();
      try {
        expect(await waitFor(async () => (await admin.query("SELECT 1 FROM pg_hba_file_rules WHERE address = '10.255.255.1'")).rowCount === 1, 5_000)).toBe(true);
      } finally {
        await admin.end();
      }
      const res = await w.run(['doctor', 'testdb']);
      expect(res.stdout).toMatch(
        new RegExp(String.raw`^warn {2}testdb: pg_hba\.conf: minted logins could log in past their expiry \(VALID UNTIL only applies to password methods\) through line \d+: local all all trust; line \d+: host ${server.database} all trust$`, 'm'),
      );
      const json = JSON.parse((await w.run(['doctor', 'testdb', '--json'])).stdout) as Array<Record<string, unknown>>;
      expect(json).toContainEqual(expect.objectContaining({ name: 'testdb: pg_hba.conf', ok: true, warning: true }));
    });
  });
});
