import type { DatabaseConfig } from '../../policy/types.js';
import type { BootstrapReport, BootstrapStep, UnneededGrant } from '../bootstrap.js';
import type { Db, ServerFlavor } from './mysql-db.js';
import { atLeast } from './mysql-db.js';
import { runtimeError } from '../../core/errors.js';
import { CREATE_LEDGER_SCHEMA_SQL, GROUP_GRANT_TABLES, LEDGER_SCHEMA, escapeLiteral, quoteAccount, quoteIdent, schemaGrantName } from './mysql-sql.js';
import { nativePasswordHash } from './mysql-password.js';

/**
 * The dedicated admin a policy database needs on MySQL/MariaDB (README, "MySQL and MariaDB"):
 * CREATE USER, PROCESS and CONNECTION ADMIN (MySQL 8: CONNECTION_ADMIN) to create logins (and on
 * MariaDB the group roles), see and KILL their threads; SELECT on mysql.user to find their
 * accounts, and on MariaDB on the grant tables that show what a group role holds; jit's ledger schema with
 * CREATE, EVENT and row rights there; GRANT OPTION on exactly the policy's tables and schemas;
 * ADMIN OPTION on the member_of roles. The account is `name`@`%`.
 */

/** A step with the query telling whether the admin holds it already (one row, `held` 1/0). */
interface MyStep extends BootstrapStep {
  held: { sql: string; params: unknown[] };
}

const ADMIN_HOST = '%';

/** information_schema's GRANTEE form: 'user'@'host', quotes doubled inside. */
const grantee = (user: string) => `'${user.replace(/'/g, "''")}'@'${ADMIN_HOST}'`;

/** $1 how many, $2 the grantee, then `where`'s values, then the privileges: all of them held. */
const privsHeld = (view: 'USER_PRIVILEGES' | 'SCHEMA_PRIVILEGES' | 'TABLE_PRIVILEGES', where: string, grantable: boolean, n: number) =>
  `SELECT COUNT(DISTINCT PRIVILEGE_TYPE) = ? AS held FROM information_schema.${view} WHERE GRANTEE = ? ${where} ` +
  `AND PRIVILEGE_TYPE IN (${Array.from({ length: n }, () => '?').join(', ')})${grantable ? " AND IS_GRANTABLE = 'YES'" : ''}`;

/** Whether the server is MariaDB (which names it CONNECTION ADMIN and keeps roles in roles_mapping). */
function connectionAdmin(flavor?: ServerFlavor): string {
  return flavor && !flavor.mariadb ? 'CONNECTION_ADMIN' : 'CONNECTION ADMIN';
}

/** The account statement with the password as a hash where the server takes one (DESIGN §5). */
function createUserSql(account: string, password: string | undefined, flavor?: ServerFlavor): string {
  if (password === undefined) return `CREATE USER ${account} IDENTIFIED BY '…'`;
  if (flavor?.mariadb) return `CREATE USER ${account} IDENTIFIED BY PASSWORD ${escapeLiteral(nativePasswordHash(password))}`;
  if (flavor && !atLeast(flavor, 8, 4)) return `CREATE USER ${account} IDENTIFIED WITH mysql_native_password AS ${escapeLiteral(nativePasswordHash(password))}`;
  return `CREATE USER ${account} IDENTIFIED BY ${escapeLiteral(password)}`;
}

/**
 * The steps for db. Without flavor: for either server, to print (MariaDB's spelling, MySQL's in
 * the comment); with it, that server's; with a password, the account statement carries it.
 */
export function bootstrapSteps(db: DatabaseConfig, flavor?: ServerFlavor, password?: string): MyStep[] {
  const name = db.admin.user;
  const a = quoteAccount(name, ADMIN_HOST);
  const g = grantee(name);
  const steps: MyStep[] = [
    {
      sql: createUserSql(a, password, flavor),
      why: password !== undefined ? "the admin (its password from the policy's source)" : `the admin; put its password in place of …, then store it: jit admin set ${db.name}`,
      held: { sql: 'SELECT COUNT(*) > 0 AS held FROM mysql.user WHERE User = ? AND Host = ?', params: [name, ADMIN_HOST] },
    },
    {
      sql: `GRANT CREATE USER, PROCESS, ${connectionAdmin(flavor)} ON *.* TO ${a}`,
      why: `create logins, see and end their sessions${flavor ? '' : ' (MySQL 8: CONNECTION_ADMIN)'}`,
      held: { sql: privsHeld('USER_PRIVILEGES', '', false, 3), params: [3, g, 'CREATE USER', 'PROCESS', connectionAdmin(flavor)] },
    },
    {
      sql: `GRANT SELECT ON mysql.user TO ${a}`,
      why: "find its logins' accounts",
      held: { sql: privsHeld('TABLE_PRIVILEGES', "AND TABLE_SCHEMA = 'mysql' AND TABLE_NAME = 'user'", false, 1), params: [1, g, 'SELECT'] },
    },
    // MariaDB: each policy role's grants live in a group role the admin builds (CREATE USER
    // covers CREATE ROLE, and the creator holds ADMIN OPTION on it to grant it to logins); these
    // tell it who holds a group and exactly what it holds. MySQL 8 keeps per-login grants.
    ...(flavor && !flavor.mariadb ? [] : GROUP_GRANT_TABLES.map((t): MyStep => ({
      sql: `GRANT SELECT ON mysql.${quoteIdent(t)} TO ${a}`,
      why: `check the group roles it builds${flavor ? '' : ' (MariaDB only)'}`,
      held: { sql: privsHeld('TABLE_PRIVILEGES', "AND TABLE_SCHEMA = 'mysql' AND TABLE_NAME = ?", false, 1), params: [1, g, t, 'SELECT'] },
    }))),
    {
      sql: CREATE_LEDGER_SCHEMA_SQL,
      why: `the ledger schema ${LEDGER_SCHEMA}, where every machine finds jit's logins`,
      held: { sql: 'SELECT COUNT(*) > 0 AS held FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', params: [LEDGER_SCHEMA] },
    },
    {
      sql: `GRANT CREATE, EVENT, SELECT, INSERT, UPDATE, DELETE ON ${quoteIdent(schemaGrantName(LEDGER_SCHEMA))}.* TO ${a}`,
      why: 'the ledger and the expiry events',
      held: { sql: privsHeld('SCHEMA_PRIVILEGES', 'AND TABLE_SCHEMA = ?', false, 6), params: [6, g, schemaGrantName(LEDGER_SCHEMA), 'CREATE', 'EVENT', 'SELECT', 'INSERT', 'UPDATE', 'DELETE'] },
    },
  ];
  for (const role of Object.values(db.roles)) {
    const why = `role ${role.name}`;
    for (const gr of role.grants) {
      const privs = [...new Set(gr.privileges.map((p) => p.toUpperCase()))];
      if (privs.length === 0) continue;
      for (const t of gr.tables ?? []) {
        steps.push({
          sql: `GRANT ${privs.join(', ')} ON ${quoteIdent(t.schema)}.${quoteIdent(t.name)} TO ${a} WITH GRANT OPTION`,
          why,
          held: { sql: privsHeld('TABLE_PRIVILEGES', 'AND TABLE_SCHEMA = ? AND TABLE_NAME = ?', true, privs.length), params: [privs.length, g, t.schema, t.name, ...privs] },
        });
      }
      if (gr.schema) {
        steps.push({
          sql: `GRANT ${privs.join(', ')} ON ${quoteIdent(schemaGrantName(gr.schema))}.* TO ${a} WITH GRANT OPTION`,
          why: `${why}: schema ${gr.schema}`,
          held: { sql: privsHeld('SCHEMA_PRIVILEGES', 'AND TABLE_SCHEMA = ?', true, privs.length), params: [privs.length, g, schemaGrantName(gr.schema), ...privs] },
        });
      }
    }
    for (const group of role.memberOf) {
      steps.push({
        sql: `GRANT ${quoteIdent(group)} TO ${a} WITH ADMIN OPTION`,
        why: `${why}: member_of`,
        held: flavor && !flavor.mariadb
          ? { sql: "SELECT COUNT(*) > 0 AS held FROM mysql.role_edges WHERE FROM_USER = ? AND TO_USER = ? AND TO_HOST = ? AND WITH_ADMIN_OPTION = 'Y'", params: [group, name, ADMIN_HOST] }
          : { sql: "SELECT COUNT(*) > 0 AS held FROM mysql.roles_mapping WHERE Role = ? AND User = ? AND Host = ? AND Admin_option = 'Y'", params: [group, name, ADMIN_HOST] },
      });
    }
  }
  return steps;
}

/** The step as it is shown: never the password or its hash. */
export function shownStep({ sql, why, conditional }: BootstrapStep): BootstrapStep {
  return { sql: sql.replace(/ IDENTIFIED (BY PASSWORD|WITH mysql_native_password AS|BY) '(?:[^'\\]|\\.|'')*'/, " IDENTIFIED BY '…'"), why, ...(conditional ? { conditional } : {}) };
}

const MISSING_TABLE_SQL = 'SELECT COUNT(*) = 0 AS missing FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?';
const MISSING_SCHEMA_SQL = 'SELECT COUNT(*) = 0 AS missing FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?';

async function missingObjects(q: Db, db: DatabaseConfig, flavor: ServerFlavor): Promise<string[]> {
  const out: string[] = [];
  for (const role of Object.values(db.roles)) {
    for (const g of role.grants) {
      for (const t of g.tables ?? []) if (Number((await q.rows(MISSING_TABLE_SQL, [t.schema, t.name]))[0]?.missing)) out.push(`table ${t.schema}.${t.name}`);
      if (g.schema && Number((await q.rows(MISSING_SCHEMA_SQL, [g.schema]))[0]?.missing)) out.push(`schema ${g.schema}`);
    }
    for (const r of role.memberOf) {
      const sql = flavor.mariadb ? "SELECT COUNT(*) = 0 AS missing FROM mysql.user WHERE User = ? AND is_role = 'Y'" : 'SELECT COUNT(*) = 0 AS missing FROM mysql.user WHERE User = ?';
      if (Number((await q.rows(sql, [r]))[0]?.missing)) out.push(`role ${r}`);
    }
  }
  return [...new Set(out)];
}

/** What the admin may grant beyond the policy: grant option on other tables and schemas, admin option on other roles. */
async function unneededGrants(q: Db, db: DatabaseConfig, flavor: ServerFlavor): Promise<UnneededGrant[]> {
  const g = grantee(db.admin.user);
  const a = quoteAccount(db.admin.user, ADMIN_HOST);
  const tables = new Map<string, Set<string>>();
  const schemas = new Map<string, Set<string>>();
  const roles = new Set<string>();
  for (const role of Object.values(db.roles)) {
    role.memberOf.forEach((r) => roles.add(r));
    for (const gr of role.grants) {
      const p = gr.privileges.map((x) => x.toUpperCase());
      for (const t of gr.tables ?? []) tables.set(`${t.schema}\u0000${t.name}`, new Set([...(tables.get(`${t.schema}\u0000${t.name}`) ?? []), ...p]));
      if (gr.schema) schemas.set(schemaGrantName(gr.schema), new Set([...(schemas.get(schemaGrantName(gr.schema)) ?? []), ...p]));
    }
  }
  const out: UnneededGrant[] = [];
  for (const r of await q.rows("SELECT TABLE_SCHEMA AS s, TABLE_NAME AS t, PRIVILEGE_TYPE AS p FROM information_schema.TABLE_PRIVILEGES WHERE GRANTEE = ? AND IS_GRANTABLE = 'YES' ORDER BY 1, 2, 3", [g])) {
    const [s, t, p] = [String(r.s), String(r.t), String(r.p)];
    if (tables.get(`${s}\u0000${t}`)?.has(p)) continue;
    out.push({ what: `${p} WITH GRANT OPTION on table ${s}.${t}`, revoke: `REVOKE ${p}, GRANT OPTION ON ${quoteIdent(s)}.${quoteIdent(t)} FROM ${a}` });
  }
  for (const r of await q.rows("SELECT TABLE_SCHEMA AS s, PRIVILEGE_TYPE AS p FROM information_schema.SCHEMA_PRIVILEGES WHERE GRANTEE = ? AND IS_GRANTABLE = 'YES' ORDER BY 1, 2", [g])) {
    const [s, p] = [String(r.s), String(r.p)];
    if (schemas.get(s)?.has(p)) continue;
    out.push({ what: `${p} WITH GRANT OPTION on schema ${s}`, revoke: `REVOKE ${p}, GRANT OPTION ON ${quoteIdent(s)}.* FROM ${a}` });
  }
  const roleRows = flavor.mariadb
    ? await q.rows("SELECT Role AS r FROM mysql.roles_mapping WHERE User = ? AND Host = ? AND Admin_option = 'Y' ORDER BY 1", [db.admin.user, ADMIN_HOST])
    : await q.rows("SELECT FROM_USER AS r FROM mysql.role_edges WHERE TO_USER = ? AND TO_HOST = ? AND WITH_ADMIN_OPTION = 'Y' ORDER BY 1", [db.admin.user, ADMIN_HOST]);
  for (const r of roleRows) {
    const name = String(r.r);
    // MariaDB records the creator of a role as its admin: the logins' roles are not jit's to judge.
    if (roles.has(name)) continue;
    out.push({ what: `ADMIN OPTION on role ${name}`, revoke: `REVOKE ADMIN OPTION FOR ${quoteIdent(name)} FROM ${a}` });
  }
  return out;
}

/**
 * Bootstrap over a DBA's connection: refuse when the policy names objects the server lacks, run
 * what the admin does not hold yet (account statements commit one by one), list the rest.
 */
export async function applyBootstrap(q: Db, flavor: ServerFlavor, serverName: string, db: DatabaseConfig, adminPassword: () => Promise<string>): Promise<BootstrapReport> {
  const missing = await missingObjects(q, db, flavor);
  if (missing.length) {
    throw runtimeError(`${db.database} has no ${missing.join(', ')}, which the policy grants; nothing was changed`, `create them, or fix ${db.name}'s roles in the policy, and run the bootstrap again`);
  }
  const exists = Number((await q.rows('SELECT COUNT(*) AS n FROM mysql.user WHERE User = ? AND Host = ?', [db.admin.user, ADMIN_HOST]))[0]?.n) > 0;
  const steps = bootstrapSteps(db, flavor, exists ? undefined : await adminPassword());
  const added: BootstrapStep[] = [];
  const present: BootstrapStep[] = [];
  for (const s of steps) {
    const held = Number((await q.rows(s.held.sql, s.held.params))[0]?.held) === 1;
    if (held) present.push(shownStep(s));
    else {
      await q.run(s.sql);
      added.push(shownStep(s));
    }
  }
  return { server: serverName, added, present, unneeded: await unneededGrants(q, db, flavor), created: !exists };
}
