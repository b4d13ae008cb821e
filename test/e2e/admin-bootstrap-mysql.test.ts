/**
 * `jit admin bootstrap` on MariaDB 10.11: printed, then --apply as a DBA account, creating an
 * admin with exactly what the policy needs (its password sent only as a hash), with which a login
 * is minted, used and revoked; run again, it adds what the policy gained and lists what it lost.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { readFile, writeFile } from 'node:fs/promises';
import mysql from 'mysql2/promise';
import { useMariadb } from '../helpers/servers.js';
import { makeWorld, type JitWorld } from '../helpers/jit-cli.js';
import { randomLowerAlnum } from '../../src/core/random.js';
import { mintUri } from './support.js';

const server = useMariadb();
const tag = randomLowerAlnum(6);
const admin = `bs_admin_${tag}`;
const dba = `bs_dba_${tag}`;
const group = `bs_grp_${tag}`;
const adminPw = `bootstrap-admin-pw-${tag}`;
const dbaPw = `bootstrap-dba-pw-${tag}`;
const worlds: JitWorld[] = [];

const policy = (tables: string[]) => `version: 1
databases:
  testdb:
    engine: mysql
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
            tables: [${tables.join(', ')}]
      analyst:
        member_of: [${group}]
`;

async function root<T>(fn: (c: mysql.Connection) => Promise<T>): Promise<T> {
  const c = await server.admin();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

afterAll(async () => {
  for (const w of worlds) await w.cleanup().catch(() => {});
  await root(async (c) => {
    for (const u of [admin, dba]) await c.query(`DROP USER IF EXISTS \`${u}\`@'%'`);
    await c.query(`DROP ROLE IF EXISTS \`${group}\``);
  });
});

describe('jit admin bootstrap on MariaDB', () => {
  it('prints the SQL, applies it as a DBA, and jit works with that admin; a re-run adds and lists', async () => {
    await root(async (c) => {
      await c.query(`CREATE USER \`${dba}\`@'%' IDENTIFIED BY '${dbaPw}'; GRANT ALL PRIVILEGES ON *.* TO \`${dba}\`@'%' WITH GRANT OPTION`);
      await c.query(`CREATE ROLE \`${group}\`; GRANT \`${group}\` TO \`${dba}\`@'%' WITH ADMIN OPTION`);
    });
    const w = await makeWorld(server as never, { policy: policy(['orders', 'customers']), env: { BS_ADMIN_PW: adminPw, DBA_PW: dbaPw } });
    worlds.push(w);
    const a = `\`${admin}\`@\`%\``;

    const printed = await w.run(['admin', 'bootstrap', 'testdb']);
    expect(printed.code, printed.stderr).toBe(0);
    const lines = printed.stdout.split('\n');
    expect(lines).toContain(`CREATE USER ${a} IDENTIFIED BY '…';  -- the admin; put its password in place of …, then store it: jit admin set testdb`);
    expect(lines).toContain(`GRANT CREATE USER, PROCESS, CONNECTION ADMIN ON *.* TO ${a};  -- create logins, see and end their sessions (MySQL 8: CONNECTION_ADMIN)`);
    expect(lines).toContain(`GRANT SELECT ON \`${server.database}\`.\`orders\` TO ${a} WITH GRANT OPTION;  -- role readonly`);
    expect(lines).toContain(`GRANT \`${group}\` TO ${a} WITH ADMIN OPTION;  -- role analyst: member_of`);
    // MariaDB's group roles: the grant tables that show who holds a group and what it holds.
    for (const t of ['roles_mapping', 'db', 'tables_priv', 'columns_priv', 'procs_priv', 'global_priv']) {
      expect(lines).toContain(`GRANT SELECT ON mysql.\`${t}\` TO ${a};  -- check the group roles it builds (MariaDB only)`);
    }

    const applied = await w.run(['admin', 'bootstrap', 'testdb', '--apply', '--dba-user', dba, '--dba-password', 'env:DBA_PW']);
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
    expect(applied.stdout).toMatch(new RegExp(`^MariaDB 10\\.11\\.\\d+ at 127\\.0\\.0\\.1:${server.port}, as ${dba}:$`, 'm'));
    expect(applied.stdout).toContain(`added    CREATE USER ${a} IDENTIFIED BY '…';`);
    expect(applied.stdout).toMatch(/^ok: logged in as bs_admin_\w+; it can grant every role in the policy, and revoke$/m);
    for (const out of [applied.stdout, applied.stderr]) {
      expect(out).not.toContain(adminPw);
      expect(out).not.toContain(dbaPw);
    }
    // The password reached the server only as its hash (the run's general log holds every statement).
    const log = await readFile(server.generalLogFile, 'utf8');
    expect(log).toContain(`CREATE USER ${a} IDENTIFIED BY PASSWORD '*`);
    expect(log).not.toContain(adminPw);

    expect(applied.stdout).toContain(`added    GRANT SELECT ON mysql.\`roles_mapping\` TO ${a};`);
    const ro = await mintUri(w, ['--role', 'readonly', '--ttl', '5m']);
    const c = await mysql.createConnection(ro.uri);
    try {
      const [rows] = await c.query('SELECT COUNT(*) AS n FROM orders');
      expect((rows as Array<{ n: number }>)[0]!.n).toBeGreaterThanOrEqual(0);
      // The bootstrapped admin built the role's group and made the login its member.
      const [[cur]] = (await c.query('SELECT CURRENT_ROLE() AS r')) as unknown as [[{ r: string }]];
      expect(cur.r).toMatch(/^jitgroup_readonly_[0-9a-f]{10}$/);
    } finally {
      await c.end();
    }
    expect((await w.run(['revoke', ro.id])).code).toBe(0);

    // customers dropped from the policy: its grant option is listed, not removed.
    await writeFile(w.policyFile, policy(['orders']));
    const again = await w.run(['admin', 'bootstrap', 'testdb', '--apply', '--dba-user', dba, '--dba-password', 'env:DBA_PW']);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(again.stdout).toContain('nothing to add');
    expect(again.stdout).toContain(`present  GRANT SELECT ON \`${server.database}\`.\`orders\` TO ${a} WITH GRANT OPTION;  -- role readonly`);
    expect(again.stdout).toContain(
      `unneeded SELECT WITH GRANT OPTION on table ${server.database}.customers; no role needs it; to remove: REVOKE SELECT, GRANT OPTION ON \`${server.database}\`.\`customers\` FROM ${a};`,
    );
  });
});
