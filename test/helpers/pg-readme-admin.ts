/**
 * README's non-superuser PostgreSQL admin (the SQL block under the `jit:nonsuper-admin-sql`
 * anchor), made in a scope on the run's shared server: the block is run as written, with the
 * admin's and the owner's names made the scope's own (roles are cluster-wide) and a real password.
 */
import { readmeSqlBlock } from './readme-sql.js';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { PgServer } from './pg-server.js';
import { ensureMarkerRoleSql, MARKER_ROLE } from '../../src/engines/postgres/postgres-sql.js';

/** The README block, one statement per line (with its trailing comment). */
export function readmeAdminSql(): string[] {
  return readmeSqlBlock('nonsuper-admin-sql').trim().split('\n');
}

/** README's names, replaced by the caller's. */
export const README_ADMIN = 'jit_admin';
export const README_OWNER = 'app_owner';

/** README's block for `admin` (owner role `owner`) with `password`. */
export function readmeAdminBlock(admin: string, owner: string, password: string): string {
  return readmeAdminSql()
    .map((l) => l.replaceAll(README_ADMIN, admin).replaceAll(README_OWNER, owner).replace(`PASSWORD '…'`, `PASSWORD ${pg.escapeLiteral(password)}`))
    .join('\n');
}

export interface ReadmeAdmin {
  user: string;
  password: string;
}

/**
 * Create README's admin in this scope (`<requester>_admin`, owner `<requester>_owner`), with
 * `extra(admin)` run after the block: the README's lines "of the same form" for what the test's
 * policy hands out beyond README's sample. The objects README's sample names (public.tickets)
 * are made in the scope's database first. On 16+ the marker role may already exist, made by
 * another admin on this shared server: README's fix for a second admin is applied, as a DBA would.
 * Dropped again when the scope ends.
 */
export async function createReadmeAdmin(server: PgServer, extra: (admin: string) => string = () => ''): Promise<ReadmeAdmin> {
  const user = `${server.requester}_admin`;
  const owner = `${server.requester}_owner`;
  const password = randomBytes(18).toString('base64url');
  const su = await server.admin();
  try {
    await su.query('CREATE TABLE IF NOT EXISTS public.tickets (id int PRIMARY KEY, body text)');
    await su.query(`CREATE ROLE ${pg.escapeIdentifier(owner)} NOLOGIN`);
    await su.query(readmeAdminBlock(user, owner, password));
    const more = extra(user);
    if (more) await su.query(more);
    if (server.version >= 16) {
      await su.query(ensureMarkerRoleSql());
      await su.query(`GRANT ${pg.escapeIdentifier(MARKER_ROLE)} TO ${pg.escapeIdentifier(user)} WITH ADMIN OPTION, INHERIT FALSE, SET FALSE`);
    }
  } finally {
    await su.end();
  }
  server.track({ cleanup: () => dropReadmeAdmin(server, user, owner) });
  return { user, password };
}

/** The logins this scope left behind (a failed test), dropped as the superuser `su`. */
export async function dropScopeLogins(server: PgServer, su: pg.Client): Promise<void> {
  // `jit_tester1…` but not `jit_tester12…`: another scope's.
  const left = (await su.query(`SELECT rolname FROM pg_catalog.pg_roles WHERE rolname ~ ('^jit_' || $1 || '([^0-9]|$)')`, [server.requester])).rows.map(
    (r: { rolname: string }) => r.rolname,
  );
  for (const login of left) {
    await su.query('SELECT pg_catalog.pg_terminate_backend(pid, 10000) FROM pg_catalog.pg_stat_activity WHERE usename = $1', [login]);
    await su.query(`DROP OWNED BY ${pg.escapeIdentifier(login)}`);
    await su.query(`DROP ROLE ${pg.escapeIdentifier(login)}`);
  }
}

/** Logins this scope left behind (a failed test) go first: the admin is a member of each. */
async function dropReadmeAdmin(server: PgServer, user: string, owner: string): Promise<void> {
  const su = await server.admin();
  try {
    await dropScopeLogins(server, su);
    await su.query(`DROP OWNED BY ${pg.escapeIdentifier(user)}, ${pg.escapeIdentifier(owner)}`);
    await su.query(`DROP ROLE ${pg.escapeIdentifier(user)}, ${pg.escapeIdentifier(owner)}`);
  } finally {
    await su.end();
  }
}
