/**
 * `jit admin bootstrap` on PostgreSQL 15 and 18: the printed SQL, then --apply as the server's
 * superuser, creating a non-superuser admin with exactly what the policy needs, with which jit's
 * commands work (a sequence grant's login dropped included); run again after the policy changed,
 * it adds what is missing and lists what no role needs any more; and doctor names the exact
 * GRANT once one is taken away.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { writeFile } from 'node:fs/promises';
import pg from 'pg';
import { usePgCron, usePostgres } from '../helpers/servers.js';
import { makeWorld, roleExists, type JitWorld } from '../helpers/jit-cli.js';
import { randomLowerAlnum } from '../../src/core/random.js';
import { mintUri } from './support.js';

for (const version of [15, 18] as const) {
  describe(`jit admin bootstrap on PostgreSQL ${version}`, () => {
    const server = usePostgres(version);
    const tag = randomLowerAlnum(6);
    const admin = `bs_admin_${tag}`;
    const schema = `bs_${tag}`;
    const group = `bs_grp_${tag}`;
    const owner = `bs_owner_${tag}`;
    const adminPw = `bootstrap-admin-pw-${tag}`;
    const worlds: JitWorld[] = [];
    const esc = pg.escapeIdentifier;

    const policy = (readonlyTables: string[]) => `version: 1
databases:
  testdb:
    engine: postgres
    host: 127.0.0.1
    port: ${server.port}
    database: ${server.database}
    tls: disable
    owner: ${owner}
    admin:
      user: ${admin}
      password: env:BS_ADMIN_PW
    roles:
      readonly:
        grants:
          - privileges: [SELECT]
            tables: [${readonlyTables.map((t) => `${schema}.${t}`).join(', ')}]
      ids:
        grants:
          - privileges: [USAGE]
            sequences: [${schema}.ids]
      reports:
        grants:
          - privileges: [SELECT]
            schema: ${schema}
      analyst:
        member_of: [${group}]
`;

    afterAll(async () => {
      for (const w of worlds) await w.cleanup().catch(() => {});
      const su = await server.admin();
      try {
        await su.query(`DROP SCHEMA IF EXISTS ${esc(schema)} CASCADE`);
        for (const r of [admin, group, owner]) {
          await su.query(`DROP OWNED BY ${esc(r)}`).catch(() => {});
          await su.query(`DROP ROLE IF EXISTS ${esc(r)}`).catch(() => {});
        }
      } finally {
        await su.end();
      }
    });

    it('prints the SQL, applies it as the superuser, and jit works with that admin; a re-run adds what the policy gained and lists what it dropped', async () => {
      const su = await server.admin();
      try {
        await su.query(
          `CREATE SCHEMA ${esc(schema)}; CREATE TABLE ${esc(schema)}.orders (id int); INSERT INTO ${esc(schema)}.orders VALUES (1); ` +
            `CREATE TABLE ${esc(schema)}.customers (id int); CREATE SEQUENCE ${esc(schema)}.ids; CREATE ROLE ${esc(group)} NOLOGIN; CREATE ROLE ${esc(owner)} NOLOGIN`,
        );
      } finally {
        await su.end();
      }
      const w = await makeWorld(server, { policy: policy(['orders', 'customers']), env: { BS_ADMIN_PW: adminPw, DBA_PW: server.adminPassword } });
      worlds.push(w);

      const printed = await w.run(['admin', 'bootstrap', 'testdb']);
      expect(printed.code, printed.stderr).toBe(0);
      const a = esc(admin);
      const lines = printed.stdout.split('\n');
      expect(lines).toContain(`CREATE ROLE ${a} LOGIN CREATEROLE;  -- the admin; then set its password (psql: \\password ${a}) and store it: jit admin set testdb`);
      expect(lines).toContain(`GRANT SELECT ON TABLE ${esc(schema)}."orders", ${esc(schema)}."customers" TO ${a} WITH GRANT OPTION;  -- role readonly`);
      expect(lines).toContain(`GRANT USAGE ON SEQUENCE ${esc(schema)}."ids" TO ${a} WITH GRANT OPTION;  -- role ids`);
      expect(lines).toContain(`GRANT ${esc(group)} TO ${a} WITH ADMIN OPTION;  -- role analyst: member_of (16+ may add: , INHERIT FALSE, SET FALSE)`);
      // Nothing more than the policy needs: pg_read_all_stats only as pg_cron's (commented) line.
      expect(lines.filter((l) => !l.startsWith('--')).join('\n')).not.toMatch(/SUPERUSER|pg_signal_backend|pg_read_all/);
      // Nothing was run: printing needs no server.
      expect(await roleExists(server, admin)).toBe(false);

      const applied = await w.run(['admin', 'bootstrap', 'testdb', '--apply', '--dba-password', 'env:DBA_PW']);
      expect(applied.code, applied.stderr).toBe(0);
      expect(applied.stdout).toMatch(new RegExp(`^PostgreSQL ${version}\\.\\d+ at 127\\.0\\.0\\.1:${server.port}, as postgres:$`, 'm'));
      expect(applied.stdout).toContain(`added    CREATE ROLE ${a} LOGIN CREATEROLE;`);
      expect(applied.stdout).toMatch(/^ok: logged in as bs_admin_\w+; it can grant every role in the policy, and revoke$/m);
      for (const out of [printed.stdout, printed.stderr, applied.stdout, applied.stderr]) {
        expect(out).not.toContain(adminPw);
        expect(out).not.toContain(server.adminPassword);
        expect(out).not.toMatch(/SCRAM-SHA-256\$/);
      }
      if (version >= 16) expect(applied.stdout).toContain(`added    GRANT pg_use_reserved_connections TO ${a};`);
      const su2 = await server.admin();
      try {
        const r = (await su2.query('SELECT rolsuper, rolcreaterole, rolcanlogin FROM pg_roles WHERE rolname = $1', [admin])).rows[0];
        expect(r).toEqual({ rolsuper: false, rolcreaterole: true, rolcanlogin: true });
      } finally {
        await su2.end();
      }

      // The admin works: mint each role, use it, and revoke (the sequence login dropped too).
      const ro = await mintUri(w, ['--role', 'readonly', '--ttl', '5m']);
      const ids = await mintUri(w, ['--role', 'ids', '--ttl', '5m']);
      const c = new pg.Client({ connectionString: ids.uri });
      await c.connect();
      try {
        expect((await c.query(`SELECT nextval('${schema}.ids')::int AS n`)).rows[0].n).toBe(1);
      } finally {
        await c.end();
      }
      expect((await w.run(['revoke', ids.id])).code).toBe(0);
      expect(await roleExists(server, ids.user)).toBe(false);
      // (Not revoke --all: the server is shared with other test files.)
      const revoked = await w.run(['revoke', ro.id]);
      expect(revoked.code, revoked.stdout + revoked.stderr).toBe(0);
      expect(await roleExists(server, ro.user)).toBe(false);

      // The policy changed: customers is no longer granted, shipments is.
      await (async () => {
        const s = await server.admin();
        try {
          await s.query(`CREATE TABLE ${esc(schema)}.shipments (id int)`);
        } finally {
          await s.end();
        }
      })();
      await writeFile(w.policyFile, policy(['orders', 'shipments']));
      const again = await w.run(['admin', 'bootstrap', 'testdb', '--apply', '--dba-password', 'env:DBA_PW']);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).toContain(`added    GRANT SELECT ON TABLE ${esc(schema)}."orders", ${esc(schema)}."shipments" TO ${a} WITH GRANT OPTION;  -- role readonly`);
      // ALL TABLES IN SCHEMA covers the new table only once run again: it is added with it.
      expect(again.stdout).toContain(`added    GRANT SELECT ON ALL TABLES IN SCHEMA ${esc(schema)} TO ${a} WITH GRANT OPTION;`);
      expect(again.stdout).toContain(`present  GRANT USAGE ON SEQUENCE ${esc(schema)}."ids" TO ${a} WITH GRANT OPTION;  -- role ids`);
      expect(again.stdout).not.toContain('added    CREATE ROLE');
      // customers is still read by `reports` (schema-wide), so nothing is unneeded yet.
      expect(again.stdout).not.toMatch(/^unneeded/m);

      // Without the schema-wide role, customers' grant option is no longer needed: listed, kept.
      await writeFile(w.policyFile, policy(['orders', 'shipments']).replace(/ {6}reports:\n(?: {8}.*\n){3}/, ''));
      const third = await w.run(['admin', 'bootstrap', 'testdb', '--apply', '--dba-password', 'env:DBA_PW']);
      expect(third.code, third.stderr).toBe(0);
      expect(third.stdout).toContain(
        `unneeded SELECT WITH GRANT OPTION on table ${schema}.customers; no role needs it; to remove: REVOKE GRANT OPTION FOR SELECT ON TABLE ${esc(schema)}."customers" FROM ${a} CASCADE;`,
      );
      expect(third.stdout).toContain('nothing to add');

      // A table someone else named with terminal escapes: listed escaped, never raw.
      const s3 = await server.admin();
      try {
        await s3.query(`CREATE TABLE ${esc(schema)}.${esc('evil\n\u001b[2J')} (id int); GRANT SELECT ON ${esc(schema)}.${esc('evil\n\u001b[2J')} TO ${a} WITH GRANT OPTION`);
      } finally {
        await s3.end();
      }
      const fourth = await w.run(['admin', 'bootstrap', 'testdb', '--apply', '--dba-password', 'env:DBA_PW']);
      expect(fourth.code, fourth.stderr).toBe(0);
      expect(fourth.stdout).not.toContain('\u001b');
      expect(fourth.stdout).toContain(`on table ${schema}.evil\\n\\e[2J; no role needs it; to remove: REVOKE GRANT OPTION FOR SELECT ON TABLE ${esc(schema)}."evil\\n\\e[2J" FROM ${a} CASCADE;`);
    });

    it('doctor names the exact GRANT once one is taken away', async () => {
      const w = worlds[0]!;
      const su = await server.admin();
      try {
        // CASCADE: the role's group role holds SELECT granted by the admin (2BP01 "dependent
        // privileges exist" without); the next mint finds the group lacking it and rebuilds it.
        await su.query(`REVOKE GRANT OPTION FOR SELECT ON ${esc(schema)}.orders FROM ${esc(admin)} CASCADE`);
      } finally {
        await su.end();
      }
      const doctor = await w.run(['doctor', 'testdb']);
      expect(doctor.code).toBe(1);
      expect(doctor.stdout + doctor.stderr).toContain(`fix: GRANT SELECT ON TABLE ${esc(schema)}."orders" TO ${esc(admin)} WITH GRANT OPTION`);
      const fixed = await w.run(['admin', 'bootstrap', 'testdb', '--apply', '--dba-password', 'env:DBA_PW']);
      expect(fixed.code, fixed.stderr).toBe(0);
      expect(fixed.stdout).toMatch(/^added {4}GRANT SELECT ON TABLE .*"orders"/m);
      expect((await w.run(['doctor', 'testdb'])).code).toBe(0);
    });

    it('refuses a policy naming objects the server lacks, changing nothing; never takes a password on the command line', async () => {
      const w = worlds[0]!;
      await writeFile(w.policyFile, policy(['orders', 'nope']));
      const r = await w.run(['admin', 'bootstrap', 'testdb', '--apply', '--dba-password', 'env:DBA_PW']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`^error: ${server.database} has no table ${schema}\\.nope, which the policy grants; nothing was changed$`, 'm'));
      const bare = await w.run(['admin', 'bootstrap', 'testdb', '--apply', '--dba-password', 'hunter2']);
      expect(bare.code).toBe(2);
      expect(bare.stderr).not.toContain('hunter2');
      expect(bare.stderr).toMatch(/^hint: pass env:NAME or command:CMD/m);
      const noTty = await w.run(['admin', 'bootstrap', 'testdb', '--apply']);
      expect(noTty.code).toBe(2);
      expect(noTty.stderr).toMatch(/^error: no terminal to ask for the DBA password$/m);
      // A superuser's password never goes to a server whose certificate is not checked.
      await writeFile(w.policyFile, policy(['orders']).replace('host: 127.0.0.1', 'host: db.invalid').replace('tls: disable', 'tls: require'));
      const unverified = await w.run(['admin', 'bootstrap', 'testdb', '--apply', '--dba-password', 'env:DBA_PW']);
      expect(unverified.code).toBe(2);
      expect(unverified.stderr).toMatch(/^error: --apply would send the DBA's password to db\.invalid:\d+ without checking the server's certificate \(tls: require, no tls_ca\)$/m);
      expect(unverified.stderr).toMatch(/^hint: set tls: verify-full/m);
    });
  });
}

describe('jit admin bootstrap where pg_cron runs', () => {
  const server = usePgCron({ exclusive: true });
  const tag = randomLowerAlnum(6);
  const admin = `bs_cron_admin_${tag}`;
  let w: JitWorld;

  afterAll(async () => {
    await w?.cleanup().catch(() => {});
    for (const database of [server.database, 'postgres']) {
      const su = await server.admin(database);
      try {
        await su.query(`DROP OWNED BY ${pg.escapeIdentifier(admin)}`).catch(() => {});
        if (database === 'postgres') await su.query(`DROP ROLE IF EXISTS ${pg.escapeIdentifier(admin)}`).catch(() => {});
      } finally {
        await su.end();
      }
    }
  });

  it("adds pg_cron's grants in pg_cron's database, and the admin's logins get their expiry job", async () => {
    const policy = `version: 1
databases:
  testdb:
    engine: postgres
    host: 127.0.0.1
    port: ${server.port}
    database: ${server.database}
    tls: disable
    admin:
      user: ${admin}
      password: env:BS_ADMIN_PW
    roles:
      readonly:
        grants:
          - privileges: [SELECT]
            tables: [public.orders]
`;
    w = await makeWorld(server, { policy, env: { BS_ADMIN_PW: `cron-admin-pw-${tag}`, DBA_PW: server.adminPassword } });
    const a = pg.escapeIdentifier(admin);
    const printed = await w.run(['admin', 'bootstrap', 'testdb']);
    expect(printed.stdout).toContain('-- where pg_cron runs, in its database (cron.database_name, usually postgres):');
    const applied = await w.run(['admin', 'bootstrap', 'testdb', '--apply', '--dba-password', 'env:DBA_PW']);
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
    expect(applied.stdout).toContain(`added    GRANT USAGE ON SCHEMA cron TO ${a};  -- schedule the jobs that end sessions at expiry (in database postgres)`);
    expect(applied.stdout).toContain(`added    GRANT pg_read_all_stats TO ${a};`);
    const doctor = await w.run(['doctor', 'testdb']);
    expect(doctor.stdout).toMatch(/^ok {4}testdb: session backstop: pg_cron /m);
    const m = await mintUri(w, ['--role', 'readonly', '--ttl', '5m']);
    const su = await server.admin('postgres');
    try {
      const jobs = await su.query('SELECT jobname FROM cron.job WHERE jobname = $1', [`jit:expire:${m.user}`]);
      expect(jobs.rows).toHaveLength(1);
    } finally {
      await su.end();
    }
    expect((await w.run(['revoke', m.id])).code).toBe(0);
  });
});
