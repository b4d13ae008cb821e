/**
 * An admin made by `jit admin bootstrap DB --apply`, as a DBA would make it: the built CLI run
 * with a policy naming the admin, as the server's superuser (PostgreSQL) or a DBA account
 * holding ALL … WITH GRANT OPTION (MariaDB, whose root is reachable only over the socket). The
 * admin is the scope's own (`<requester>_boot`), with a fresh password, and is dropped when the
 * scope ends, after whatever this scope's requester left behind.
 */
import { expect } from 'vitest';
import pg from 'pg';
import { generatePassword } from '../../src/core/random.js';
import { makeWorld } from './jit-cli.js';
import type { PgServer } from './pg-server.js';
import type { MariadbScope } from './mariadb-scope.js';
import { dropScopeLogins } from './pg-readme-admin.js';

export interface BootstrapAdmin {
  user: string;
  password: string;
}

interface Scope {
  port: number;
  database: string;
  requester: string;
  track(resource: { cleanup(): Promise<void> }): void;
}

/** Run bootstrap --apply for the policy `policy(admin)` names as database `testdb`. */
async function apply(scope: Scope, policy: (admin: string) => string, admin: BootstrapAdmin, dba: { user: string; password: string }): Promise<void> {
  const w = await makeWorld({ ...scope, adminPassword: admin.password }, { policy: policy(admin.user), env: { DBA_PW: dba.password } });
  try {
    const r = await w.run(['admin', 'bootstrap', 'testdb', '--apply', '--dba-user', dba.user, '--dba-password', 'env:DBA_PW']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^ok: logged in as ${admin.user}; it can grant every role in the policy, and revoke$`, 'm'));
  } finally {
    await w.cleanup();
  }
}

/**
 * PostgreSQL: bootstrap as the superuser `postgres`, then `extra(admin)` as the superuser (what
 * a case hands out beyond the policy: names no policy may hold).
 */
export async function bootstrapPgAdmin(server: PgServer, policy: (admin: string) => string, extra: (admin: string) => string = () => ''): Promise<BootstrapAdmin> {
  const admin = { user: `${server.requester}_boot`, password: generatePassword() };
  server.track({ cleanup: () => dropPgAdmin(server, admin.user) });
  await apply(server, policy, admin, { user: 'postgres', password: server.adminPassword });
  const more = extra(admin.user);
  if (more) {
    const su = await server.admin();
    try {
      await su.query(more);
    } finally {
      await su.end();
    }
  }
  return admin;
}

/** This scope's logins left behind (a failed case) go first: on 16+ the admin is a member of each. */
async function dropPgAdmin(server: PgServer, user: string): Promise<void> {
  const su = await server.admin();
  try {
    if ((await su.query('SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1', [user])).rowCount === 0) return;
    await dropScopeLogins(server, su);
    await su.query(`DROP OWNED BY ${pg.escapeIdentifier(user)}`);
    await su.query(`DROP ROLE ${pg.escapeIdentifier(user)}`);
  } finally {
    await su.end();
  }
}

/**
 * MariaDB: a DBA account (`<requester>_dba`, ALL PRIVILEGES ON *.* WITH GRANT OPTION) runs
 * bootstrap over TCP, then `extra(admin)` runs as root.
 */
export async function bootstrapMariadbAdmin(server: MariadbScope, policy: (admin: string) => string, extra: (admin: string) => string = () => ''): Promise<BootstrapAdmin> {
  const admin = { user: `${server.requester}_boot`, password: generatePassword() };
  const dba = { user: `${server.requester}_dba`, password: generatePassword() };
  const account = (u: string) => `\`${u}\`@'%'`;
  const root = async (sql: string, params: unknown[] = []) => {
    const c = await server.admin();
    try {
      await c.query(sql, params);
    } finally {
      await c.end();
    }
  };
  server.track({ cleanup: () => root(`DROP USER IF EXISTS ${account(admin.user)}, ${account(dba.user)}`) });
  await root(`CREATE USER ${account(dba.user)} IDENTIFIED BY ?; GRANT ALL PRIVILEGES ON *.* TO ${account(dba.user)} WITH GRANT OPTION`, [dba.password]);
  await apply(server, policy, admin, dba);
  const more = extra(admin.user);
  if (more) await root(more);
  return admin;
}
