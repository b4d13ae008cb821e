import { createHash } from 'node:crypto';
import type { GroupSpec } from '../group-spec.js';
import { EXIT, JitError } from '../../core/errors.js';
import type { Db, Row } from './mysql-db.js';
import { ER, errorNumber } from './mysql-errors.js';
import {
  GET_LOCK_SQL,
  GROUP_ACCOUNTS_SQL,
  GROUP_BUILT_SQL,
  GROUP_GLOBAL_ACCESS_SQL,
  GROUP_CLAIM_SQL,
  GROUP_HELD_ROLES_SQL,
  GROUP_MEMBERS_SQL,
  GROUP_OTHER_PRIVS_SQL,
  GROUP_ROW_SQL,
  GROUP_SCHEMA_PRIVS_SQL,
  GROUP_TABLE_PRIVS_SQL,
  RELEASE_LOCK_SQL,
  createRoleSql,
  grantRolesToRoleSql,
  groupLockName,
  revokeAllFromRoleSql,
  revokeFromRoleSql,
  revokeRoleFromRoleSql,
  roleGrantSqls,
  schemaGrantName,
} from './mysql-sql.js';

/**
 * A policy role as a MariaDB role: the role's grants are made once, to the group, and every
 * login it mints is only granted the group and given it as its default role. No grant table
 * grows with the number of live logins, and a mint of a role whose group is up to date only
 * reads. MariaDB activates one default role per account, so the role's member_of role is
 * granted to the group, whose activation brings it along.
 */

/** Group names start with this, never with `jit_`, which stays reserved for logins (DESIGN §3). */
export const GROUP_PREFIX = 'jitgroup_';
/** Characters: MariaDB takes 128 for a role, GET_LOCK 64 for the lock named `jit:<group>`. */
export const GROUP_NAME_MAX = 60;
/** Bumped whenever what a group is built from, or how, changes: every group is rebuilt once. */
const BUILD_VERSION = 1;
/** How long a mint waits for another mint building the same group (GET_LOCK, seconds). */
const LOCK_WAIT_S = 30;

export type { GroupSpec };

/** `jitgroup_<role>_<hash>`: readable in mysql.user, unique per policy database, schema, role and admin through the hash. */
export function groupName(spec: Pick<GroupSpec, 'policyDatabase' | 'database' | 'role' | 'admin'>): string {
  const hash = createHash('sha256').update(JSON.stringify([spec.policyDatabase, spec.database, spec.role, spec.admin])).digest('hex').slice(0, 10);
  const room = GROUP_NAME_MAX - GROUP_PREFIX.length - 1 - hash.length;
  return `${GROUP_PREFIX}${[...spec.role].slice(0, room).join('')}_${hash}`;
}

/** A privilege keyword as mysql.tables_priv spells it in Table_priv (`Select`), and mysql.db's column (`Select_priv`). */
const tablePrivName = (p: string) => p.charAt(0) + p.slice(1).toLowerCase();
const schemaPrivColumn = (p: string) => `${tablePrivName(p).replace(/ /g, '_')}_priv`;

/** What the group must hold, as the grant tables would show it. */
interface Shape {
  /** `db\0table` → sorted Table_priv names. */
  tables: Map<string, string[]>;
  /** GRANT-form schema name (`app\_1`) → sorted mysql.db columns. */
  schemas: Map<string, string[]>;
  roles: string[];
}

function expectedShape(spec: GroupSpec): Shape {
  const tables = new Map<string, Set<string>>();
  const schemas = new Map<string, Set<string>>();
  for (const g of spec.grants) {
    const privs = [...new Set(g.privileges.map((p) => p.trim().toUpperCase()))];
    if (privs.length === 0) continue;
    for (const t of g.tables ?? []) {
      const key = `${t.schema}\0${t.name}`;
      tables.set(key, new Set([...(tables.get(key) ?? []), ...privs.map(tablePrivName)]));
    }
    if (g.schema) {
      const key = schemaGrantName(g.schema);
      schemas.set(key, new Set([...(schemas.get(key) ?? []), ...privs.map(schemaPrivColumn)]));
    }
  }
  const sorted = (m: Map<string, Set<string>>) => new Map([...m].map(([k, v]) => [k, [...v].sort()]));
  return { tables: sorted(tables), schemas: sorted(schemas), roles: [...new Set(spec.memberOf)].sort() };
}

export function groupDigest(spec: GroupSpec): string {
  const shape = expectedShape(spec);
  const body = { v: BUILD_VERSION, database: spec.database, tables: [...shape.tables].sort(), schemas: [...shape.schemas].sort(), roles: shape.roles };
  return createHash('sha256').update(JSON.stringify(body)).digest('hex').slice(0, 32);
}

/** What the server says about the group right now. */
interface Held {
  /** The digest in jit.groups, or null without a row. */
  digest: string | null;
  /** False when no role of that name exists. */
  exists: boolean;
  /** Why the role is not one jit shaped, or null. */
  foreign: string | null;
  shape: Shape;
  /** Column or routine privileges: jit never grants them. */
  other: number;
  /** Roles held WITH ADMIN OPTION (jit grants none so). */
  heldAdmin: string[];
}

const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);
const sameMap = (a: Map<string, string[]>, b: Map<string, string[]>) => a.size === b.size && [...a].every(([k, v]) => sameList(v, b.get(k) ?? []));

/** The admin as mysql.roles_mapping names it: CURRENT_USER() is `user@host`. */
export function splitAccount(account: string): { user: string; host: string } {
  const at = account.lastIndexOf('@');
  return at < 0 ? { user: account, host: '' } : { user: account.slice(0, at), host: account.slice(at + 1) };
}

async function readHeld(db: Db, group: string, admin: { user: string; host: string }): Promise<Held> {
  const [row] = await db.rows(GROUP_ROW_SQL, [group]);
  const accounts = await db.rows(GROUP_ACCOUNTS_SQL, [group]);
  const digest = row ? String(row.digest) : null;
  const empty: Shape = { tables: new Map(), schemas: new Map(), roles: [] };
  if (accounts.length === 0) return { digest, exists: false, foreign: null, shape: empty, other: 0, heldAdmin: [] };
  const foreign = (why: string): Held => ({ digest, exists: true, foreign: why, shape: empty, other: 0, heldAdmin: [] });
  if (accounts.some((a) => String(a.host) !== '' || a.is_role !== 'Y')) return foreign('an account of that name is a user, not a role');
  if (String(accounts[0]!.privs ?? '').includes('Y')) return foreign('it holds global privileges, which jit never grants');
  const members = (await db.rows(GROUP_MEMBERS_SQL, [group])).filter((m) => !(String(m.user) === admin.user && String(m.host) === admin.host));
  if (members.length > 0) {
    const m = members[0]!;
    return foreign(`it is granted to ${String(m.host) === '' ? `role ${String(m.user)}` : `${String(m.user)}@${String(m.host)}`}${m.admin_option === 'Y' ? ' WITH ADMIN OPTION' : ''}, which is neither the admin nor a login jit minted`);
  }
  // mysql.user has no column for the privileges MariaDB added since 10.5: the bit mask has them all.
  const access = await db.rows(GROUP_GLOBAL_ACCESS_SQL, [group]);
  if (access.some((r) => Number(r.access ?? 0) !== 0)) return foreign('it holds global privileges, which jit never grants');
  if (digest === null) return foreign('it has no row in jit.groups, so jit did not build it');
  const tables = new Map<string, string[]>();
  let other = 0;
  for (const t of await db.rows(GROUP_TABLE_PRIVS_SQL, [group])) {
    const privs = String(t.privs ?? '').split(',').filter(Boolean).sort();
    if (String(t.cols ?? '') !== '') other++;
    if (privs.length > 0) tables.set(`${String(t.db)}\0${String(t.tbl)}`, privs);
  }
  const schemas = new Map<string, string[]>();
  for (const s of await db.rows(GROUP_SCHEMA_PRIVS_SQL, [group])) schemas.set(String(s.Db), schemaPrivs(s));
  other += Number((await db.rows(GROUP_OTHER_PRIVS_SQL, [group, group]))[0]?.n ?? 0);
  const held = await db.rows(GROUP_HELD_ROLES_SQL, [group]);
  const roles = held.map((r) => String(r.role)).sort();
  const heldAdmin = held.filter((r) => r.admin_option === 'Y').map((r) => String(r.role));
  return { digest, exists: true, foreign: null, shape: { tables, schemas, roles }, other, heldAdmin };
}

function schemaPrivs(row: Row): string[] {
  return Object.entries(row).filter(([k, v]) => k.endsWith('_priv') && v === 'Y').map(([k]) => k).sort();
}

function upToDate(held: Held, spec: GroupSpec, want: Shape): boolean {
  return (
    held.exists && held.foreign === null && held.digest === groupDigest(spec) && held.other === 0 && held.heldAdmin.length === 0 &&
    sameMap(held.shape.tables, want.tables) && sameMap(held.shape.schemas, want.schemas) && sameList(held.shape.roles, want.roles)
  );
}

/** A role of the group's name that jit did not shape: never filled with the policy's grants. */
export function groupConflict(group: string, why: string, at: string): JitError {
  return new JitError(`on ${at}, role ${group} exists and was not built by jit as a group role (${why}); no login was minted`, {
    hint: `drop or rename that role if nothing needs it (DROP ROLE \`${group.replace(/`/g, '``')}\`): jit keeps each policy role's grants in a role of that name and builds it again`,
    exitCode: EXIT.runtime,
  });
}

/**
 * Makes the group hold exactly the policy's grants. Reads only when it already does; otherwise
 * takes the group's named lock, reads again (another mint may have just built it), refuses a
 * role jit did not shape, and changes the group in place: live logins of the role see the new
 * grants at once (account statements commit one by one, so for the moments of a rebuild they
 * may see part of them). Returns the group's name.
 */
export async function ensureGroup(db: Db, spec: GroupSpec, adminAccount: string, at: string): Promise<string> {
  const group = groupName(spec);
  const admin = splitAccount(adminAccount);
  const want = expectedShape(spec);
  if (upToDate(await readHeld(db, group, admin), spec, want)) return group;
  // A timeout (0) means another build is stuck: every step below is idempotent, so go on.
  await db.rows(GET_LOCK_SQL, [groupLockName(group), LOCK_WAIT_S]);
  try {
    let held = await readHeld(db, group, admin);
    if (upToDate(held, spec, want)) return group;
    if (held.foreign) throw groupConflict(group, held.foreign, at);
    if (!held.exists) {
      // The row first: a crash after CREATE ROLE leaves a role with a row, which the next mint rebuilds.
      await db.run(GROUP_CLAIM_SQL, [group, spec.policyDatabase, spec.role]);
      try {
        await db.run(createRoleSql(group));
      } catch (err) {
        // 1396: a role of that name appeared meanwhile, not through this lock: someone else's.
        if (errorNumber(err) === ER.CANNOT_USER) throw groupConflict(group, 'it was created meanwhile by another account', at);
        throw err;
      }
      held = await readHeld(db, group, admin);
      if (held.foreign) throw groupConflict(group, held.foreign, at);
    }
    await rebuild(db, group, held, spec, want);
    await db.run(GROUP_BUILT_SQL, [groupDigest(spec), group]);
    return group;
  } finally {
    await db.rows(RELEASE_LOCK_SQL, [groupLockName(group)]).catch(() => {});
  }
}

/**
 * From what the group holds to what the policy says. Privileges it holds beyond the policy are
 * revoked one by one where the admin holds their grant option, else all at once (REVOKE ALL
 * needs only CREATE USER) and granted again; roles beyond member_of are revoked (the admin needs
 * ADMIN OPTION on them: one it lacks was granted by someone else, and fails the mint).
 */
async function rebuild(db: Db, group: string, held: Held, spec: GroupSpec, want: Shape): Promise<void> {
  for (const r of held.shape.roles) {
    if (want.roles.includes(r) && !held.heldAdmin.includes(r)) continue;
    await db.run(revokeRoleFromRoleSql(r, group));
  }
  let resetAll = held.other > 0;
  const extra: Array<{ privs: string[]; on: { schema: string; table?: string } }> = [];
  for (const [key, privs] of held.shape.tables) {
    const keep = want.tables.get(key) ?? [];
    const drop = privs.filter((p) => !keep.includes(p)).map((p) => p.toUpperCase());
    const [schema, table] = key.split('\0') as [string, string];
    if (drop.length > 0) extra.push({ privs: drop, on: { schema, table } });
  }
  for (const [schema, cols] of held.shape.schemas) {
    const keep = want.schemas.get(schema) ?? [];
    const drop = cols.filter((c) => !keep.includes(c)).map((c) => c.replace(/_priv$/, '').replace(/_/g, ' ').toUpperCase());
    if (drop.length > 0) extra.push({ privs: drop, on: { schema } });
  }
  for (const e of extra) {
    if (resetAll) break;
    try {
      await db.run(revokeFromRoleSql(e.privs, e.on, group));
    } catch {
      resetAll = true;
    }
  }
  if (resetAll) {
    // Roles first: REVOKE ALL on a role that holds one fails midway on MariaDB 10.11 (1147).
    for (const r of held.shape.roles) if (want.roles.includes(r) && !held.heldAdmin.includes(r)) await db.run(revokeRoleFromRoleSql(r, group));
    await db.run(revokeAllFromRoleSql(group));
  }
  for (const sql of roleGrantSqls(spec.grants, group)) await db.run(sql);
  if (want.roles.length > 0) await db.run(grantRolesToRoleSql(want.roles, group));
}
