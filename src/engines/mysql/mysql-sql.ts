/**
 * Every SQL statement the MySQL/MariaDB engine sends, built only through the quoting helpers
 * below. Values travel as bind parameters (`?`, server-side prepared) wherever the statement can
 * be prepared; account statements, GRANT and events cannot take parameters for names, so
 * those are quoted here.
 */
import type { Grant } from '../../policy/types.js';

/** The ledger's schema and table: MariaDB has no user attributes, so the lease lives here. */
export const LEDGER_SCHEMA = 'jit';
export const LEDGER_TABLE = 'leases';
/** `jit`.`expire_<login>`: the one-shot event that drops a login at expiry. */
export const EVENT_PREFIX = 'expire_';

/**
 * A backtick-quoted identifier. Inside backticks only a doubled backtick is special: a backslash
 * is a backslash whatever sql_mode says, and ANSI_QUOTES does not apply.
 */
export function quoteIdent(name: string): string {
  if (name.includes('\0')) throw new Error('an identifier cannot contain a NUL character');
  return '`' + name.replace(/`/g, '``') + '`';
}

/**
 * An account, `user`@`host`. The backtick form is account syntax too (SHOW GRANTS prints it), and
 * unlike 'user'@'host' it reads the same with and without NO_BACKSLASH_ESCAPES.
 */
export function quoteAccount(user: string, host: string): string {
  return `${quoteIdent(user)}@${quoteIdent(host)}`;
}

/**
 * A string literal. Backslash is an escape character in MySQL/MariaDB strings unless sql_mode has
 * NO_BACKSLASH_ESCAPES; the admin session clears that mode on connect (sessionSqlMode), so
 * doubling backslashes here is exactly right there.
 */
export function escapeLiteral(value: string): string {
  return "'" + value.replace(/\\/g, '\\\\').replace(/'/g, "''").replace(/\0/g, '\\0') + "'";
}

/**
 * Modes that change how jit's SQL reads: the two quoting modes, and the combination modes. A
 * combination mode set again re-adds its parts (POSTGRESQL brings ANSI_QUOTES back), and
 * MariaDB's ORACLE also switches stored programs to PL/SQL syntax, so the expiry event's
 * BEGIN … DECLARE … END body fails to parse (1064) and no login could be minted.
 */
const FOREIGN_MODES = new Set(['NO_BACKSLASH_ESCAPES', 'ANSI_QUOTES', 'ANSI', 'ORACLE', 'POSTGRESQL', 'DB2', 'MSSQL', 'MAXDB', 'MYSQL323', 'MYSQL40']);

/** The admin session's sql_mode: the server's, without the modes that change how jit's SQL reads. */
export function sessionSqlMode(serverMode: string): string {
  return serverMode
    .split(',')
    .map((m) => m.trim())
    .filter((m) => m && !FOREIGN_MODES.has(m.toUpperCase()))
    .join(',');
}

/** Run once per admin session: UTC (event times and the ledger's DATETIMEs are UTC) and a known sql_mode. */
export function sessionSetupSql(serverMode: string): string {
  return `SET SESSION time_zone = '+00:00', SESSION sql_mode = ${escapeLiteral(sessionSqlMode(serverMode))}`;
}

/** `YYYY-MM-DD HH:MM:SS.mmm` in UTC, the form a DATETIME column and `AT` accept. */
export function utcDatetime(d: Date): string {
  if (Number.isNaN(d.getTime())) throw new Error('invalid date');
  return d.toISOString().replace('T', ' ').replace('Z', '');
}

/** A DATETIME read back with dateStrings (UTC, no zone) as an ISO-8601 instant. */
export function isoFromDatetime(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  const d = v instanceof Date ? v : new Date(`${String(v).replace(' ', 'T')}Z`);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

export const SERVER_INFO_SQL = 'SELECT VERSION() AS version, @@version_comment AS comment, @@SESSION.sql_mode AS sql_mode';
export const SERVER_TIME_SQL = 'SELECT UTC_TIMESTAMP(6) AS server_now';

const LEDGER = `${quoteIdent(LEDGER_SCHEMA)}.${quoteIdent(LEDGER_TABLE)}`;

export const CREATE_LEDGER_SCHEMA_SQL = `CREATE DATABASE IF NOT EXISTS ${quoteIdent(LEDGER_SCHEMA)} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`;
// One row per login, written before CREATE USER: a crash in between leaves a row `reap` finds,
// and an account without a row is never treated as jit's. Times are UTC.
export const CREATE_LEDGER_TABLE_SQL =
  `CREATE TABLE IF NOT EXISTS ${LEDGER} (` +
  'login VARCHAR(80) NOT NULL PRIMARY KEY, ' +
  'host VARCHAR(255) NOT NULL, ' +
  'lease_id VARCHAR(64) NOT NULL, ' +
  '`database` VARCHAR(255) NOT NULL, ' +
  'role VARCHAR(255) NOT NULL, ' +
  'requester VARCHAR(255) NOT NULL, ' +
  'requester_host VARCHAR(255) NOT NULL, ' +
  'reason TEXT NULL, ' +
  'created_at DATETIME(6) NOT NULL, ' +
  'expires_at DATETIME(6) NOT NULL, ' +
  'max_expires_at DATETIME(6) NOT NULL' +
  ') ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin';

/** The shape of a MySQL login makeLoginName draws (mysql-revoke.ts isJitLoginName), as a REGEXP. */
export const JIT_LOGIN_PATTERN = '^jit_([a-z0-9]+_)?[a-z0-9]{10,}$';

/**
 * One row per group role jit built (mysql-group.ts): MariaDB roles carry no comment, so what a
 * group was built from lives here. Anyone who can write jit.* can write here too: the digest is
 * only a hint that the group needs no rebuild, never a reason to trust a role.
 */
export const GROUPS_TABLE = 'groups';
const GROUPS = `${quoteIdent(LEDGER_SCHEMA)}.${quoteIdent(GROUPS_TABLE)}`;
export const CREATE_GROUPS_TABLE_SQL =
  `CREATE TABLE IF NOT EXISTS ${GROUPS} (` +
  'name VARCHAR(128) NOT NULL PRIMARY KEY, ' +
  '`database` VARCHAR(255) NOT NULL, ' +
  'role VARCHAR(255) NOT NULL, ' +
  'digest VARCHAR(64) NOT NULL, ' +
  'built_at DATETIME(6) NULL' +
  ') ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin';
/** The grant tables (schema mysql) the admin reads to know who holds a group and what it holds (MariaDB). */
export const GROUP_GRANT_TABLES = ['roles_mapping', 'db', 'tables_priv', 'columns_priv', 'procs_priv', 'global_priv'] as const;
/**
 * The group's global (`*.*`) privileges as MariaDB keeps them: a bit mask in mysql.global_priv,
 * which also holds those mysql.user has no column for (SET USER, CONNECTION ADMIN, BINLOG
 * ADMIN, …, and DELETE HISTORY). 0 (or no row) for a role that holds none.
 */
export const GROUP_GLOBAL_ACCESS_SQL = "SELECT CAST(JSON_VALUE(Priv, '$.access') AS UNSIGNED) AS access FROM mysql.global_priv WHERE User = ? AND Host = ''";
export const GROUP_ROW_SQL = `SELECT digest FROM ${GROUPS} WHERE name = ?`;
/** Written before CREATE ROLE (digest '': not built yet), so a crash in between leaves a role jit recognises as its own. */
export const GROUP_CLAIM_SQL = `INSERT IGNORE INTO ${GROUPS} (name, \`database\`, role, digest, built_at) VALUES (?, ?, ?, '', NULL)`;
export const GROUP_BUILT_SQL = `UPDATE ${GROUPS} SET digest = ?, built_at = UTC_TIMESTAMP(6) WHERE name = ?`;
export const GROUP_TABLE_PRIVS_SQL = "SELECT Db AS db, Table_name AS tbl, Table_priv AS privs, Column_priv AS cols FROM mysql.tables_priv WHERE User = ? AND Host = ''";
export const GROUP_SCHEMA_PRIVS_SQL = "SELECT * FROM mysql.db WHERE User = ? AND Host = ''";
export const GROUP_OTHER_PRIVS_SQL =
  "SELECT (SELECT COUNT(*) FROM mysql.columns_priv WHERE User = ? AND Host = '') + (SELECT COUNT(*) FROM mysql.procs_priv WHERE User = ? AND Host = '') AS n";
/** The roles the group holds. */
export const GROUP_HELD_ROLES_SQL = "SELECT Role AS role, Admin_option AS admin_option FROM mysql.roles_mapping WHERE User = ? AND Host = ''";
/**
 * Who holds the group, but for jit's own logins (a ledger row, no ADMIN OPTION): the admin's
 * creator grant, and anyone else, which makes it a role jit did not shape.
 */
export const GROUP_MEMBERS_SQL =
  'SELECT m.User AS user, m.Host AS host, m.Admin_option AS admin_option FROM mysql.roles_mapping m WHERE m.Role = ? ' +
  `AND (m.Admin_option = 'Y' OR m.Host = '' OR CHAR_LENGTH(m.User) > 32 OR NOT (CONVERT(m.User USING utf8mb4) COLLATE utf8mb4_bin REGEXP ${escapeLiteral(JIT_LOGIN_PATTERN)}) ` +
  `OR NOT EXISTS (SELECT 1 FROM ${LEDGER} l WHERE l.login = CONVERT(m.User USING utf8mb4) COLLATE utf8mb4_bin))`;
/** The named lock a group's build takes: two first mints of one role do not build it twice. */
export const groupLockName = (group: string) => `jit:${group}`;

/** Longest text the ledger's VARCHAR(255) columns take (characters): longer values are cut to fit. */
export const LEDGER_TEXT_MAX = 255;
export const LEDGER_INSERT_SQL =
  `INSERT INTO ${LEDGER} (login, host, lease_id, \`database\`, role, requester, requester_host, reason, created_at, expires_at, max_expires_at) ` +
  'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)';
export const LEDGER_DELETE_SQL = `DELETE FROM ${LEDGER} WHERE login = ?`;
export const LEDGER_ROW_SQL = `SELECT login, host, expires_at, expires_at <= UTC_TIMESTAMP(6) AS expired FROM ${LEDGER} WHERE login = ?`;
export const LEDGER_EXTEND_SQL = `UPDATE ${LEDGER} SET expires_at = ? WHERE login = ? AND expires_at > UTC_TIMESTAMP(6)`;

/**
 * The global (`*.*`) privilege columns MySQL 8 and MariaDB both have, as one Y/N string: a jit
 * login never holds one, so an account with any 'Y' is not jit's whatever a ledger row says.
 */
const GLOBAL_PRIVS =
  'CONCAT(Select_priv, Insert_priv, Update_priv, Delete_priv, Create_priv, Drop_priv, Reload_priv, Shutdown_priv, Process_priv, File_priv, ' +
  'Grant_priv, References_priv, Index_priv, Alter_priv, Show_db_priv, Super_priv, Create_tmp_table_priv, Lock_tables_priv, Execute_priv, ' +
  'Repl_slave_priv, Repl_client_priv, Create_view_priv, Show_view_priv, Create_routine_priv, Alter_routine_priv, Create_user_priv, Event_priv, ' +
  'Trigger_priv, Create_tablespace_priv) AS privs';
/** The hosts of the accounts named `user` (all of them are one jit login), with their global privileges. A MariaDB role has host ''. */
export const ACCOUNT_HOSTS_SQL = `SELECT Host AS host, ${GLOBAL_PRIVS} FROM mysql.user WHERE User = ? ORDER BY Host`;
/** Every account or role named like a group, with its global privileges (a MariaDB role has host ''). */
export const GROUP_ACCOUNTS_SQL = `SELECT Host AS host, is_role AS is_role, ${GLOBAL_PRIVS} FROM mysql.user WHERE User = ?`;
export const ACCOUNT_HOSTS_MANY_SQL = (n: number) => `SELECT User AS login, Host AS host, ${GLOBAL_PRIVS} FROM mysql.user WHERE User IN (${placeholders(n)}) ORDER BY User, Host`;
/**
 * Anonymous accounts at a host more specific than '%': the server matches them before
 * 'jit_x'@'%' (host specificity sorts first), so a client from that host would log in as ''.
 */
export const ANONYMOUS_HOSTS_SQL = "SELECT Host AS host FROM mysql.user WHERE User = '' AND Host <> '%' ORDER BY Host";

// information_schema is utf8mb3: compare as utf8mb4_bin so the join neither fails on mixed
// collations nor matches case-insensitively.
const PL_USER = 'CONVERT(p.USER USING utf8mb4) COLLATE utf8mb4_bin';
export const THREADS_SQL = `SELECT p.ID AS id FROM information_schema.PROCESSLIST p WHERE ${PL_USER} = ? AND p.ID <> CONNECTION_ID()`;
export const THREADS_MANY_SQL = (n: number) =>
  `SELECT p.ID AS id, ${PL_USER} AS login FROM information_schema.PROCESSLIST p WHERE ${PL_USER} IN (${placeholders(n)}) AND p.ID <> CONNECTION_ID()`;

export const LIST_LOGINS_SQL =
  `SELECT l.login, l.lease_id, l.\`database\`, l.role, l.requester, l.requester_host, l.reason, l.created_at, l.expires_at, l.max_expires_at, ` +
  `e.EXECUTE_AT AS event_at, ` +
  `(SELECT COUNT(*) FROM information_schema.PROCESSLIST p WHERE ${PL_USER} = l.login) AS sessions ` +
  `FROM ${LEDGER} l ` +
  `LEFT JOIN information_schema.EVENTS e ON e.EVENT_SCHEMA = ${escapeLiteral(LEDGER_SCHEMA)} ` +
  `AND CONVERT(e.EVENT_NAME USING utf8mb4) COLLATE utf8mb4_bin = CONCAT(${escapeLiteral(EVENT_PREFIX)}, l.login) ` +
  // An account, not a role (a MariaDB role is a row with an empty host).
  `WHERE EXISTS (SELECT 1 FROM mysql.user u WHERE CONVERT(u.User USING utf8mb4) COLLATE utf8mb4_bin = l.login AND u.Host <> '') ` +
  'ORDER BY l.created_at, l.login';

export const SESSIONS_SQL =
  `SELECT ${PL_USER} AS login, p.ID AS id, p.HOST AS host, p.TIME AS seconds, p.STATE AS state, p.INFO AS query, UTC_TIMESTAMP(6) AS server_now ` +
  `FROM information_schema.PROCESSLIST p JOIN ${LEDGER} l ON ${PL_USER} = l.login ORDER BY p.ID`;

/** Everything the current account holds: its own grants, its default role's (nested ones too) and PUBLIC's. */
export const SHOW_OWN_GRANTS_SQL = 'SHOW GRANTS';
/** MariaDB 10.11+: what every account holds. */
export const SHOW_PUBLIC_GRANTS_SQL = 'SHOW GRANTS FOR PUBLIC';

export const GET_LOCK_SQL = 'SELECT GET_LOCK(?, ?) AS got';
export const RELEASE_LOCK_SQL = 'SELECT RELEASE_LOCK(?) AS released';
/** The named lock concurrent revokes (and extend) of one login take turns on. */
export const lockName = (login: string) => `jit:${login}`;

export const EVENT_SCHEDULER_SQL = 'SELECT @@GLOBAL.event_scheduler AS scheduler';
/**
 * Expiry events that run as another account than this admin (an admin since dropped or renamed:
 * the event then fails with 1449 when it is due, and only the server's error log says so).
 */
export const FOREIGN_DEFINER_EVENTS_SQL =
  `SELECT COUNT(*) AS n, MIN(DEFINER) AS definer FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ${escapeLiteral(LEDGER_SCHEMA)} ` +
  `AND EVENT_NAME LIKE ${escapeLiteral(`${EVENT_PREFIX.replace(/_/g, '\\_')}%`)} AND DEFINER <> CURRENT_USER()`;
export const CURRENT_USER_SQL = 'SELECT CURRENT_USER() AS me';
export const GLOBAL_PRIVILEGES_SQL = 'SELECT PRIVILEGE_TYPE AS priv, IS_GRANTABLE AS grantable FROM information_schema.USER_PRIVILEGES WHERE GRANTEE = ?';
export const SCHEMA_PRIVILEGES_SQL = 'SELECT PRIVILEGE_TYPE AS priv FROM information_schema.SCHEMA_PRIVILEGES WHERE GRANTEE = ? AND TABLE_SCHEMA = ?';
export const ANONYMOUS_ACCOUNTS_SQL = "SELECT Host AS host FROM mysql.user WHERE User = '' ORDER BY Host";
export const TABLE_EXISTS_SQL = 'SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?';
export const SCHEMA_EXISTS_SQL = 'SELECT COUNT(*) AS n FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?';
/** MariaDB keeps roles in mysql.user with is_role = 'Y'; MySQL 8 roles are accounts. */
export const roleExistsSql = (mariadb: boolean) =>
  mariadb ? "SELECT COUNT(*) AS n FROM mysql.user WHERE User = ? AND is_role = 'Y'" : 'SELECT COUNT(*) AS n FROM mysql.user WHERE User = ?';

function placeholders(n: number): string {
  if (!Number.isInteger(n) || n < 1) throw new Error('at least one value is needed');
  return Array.from({ length: n }, () => '?').join(', ');
}

/** How the account gets its password: a hash where the server takes one (DESIGN §5). */
export type AccountAuth =
  /** MariaDB: mysql_native_password `*HEX(SHA1(SHA1(pw)))`, so the plaintext never reaches the server. */
  | { kind: 'native-hash'; hash: string }
  /** MySQL < 8.4: the same hash through IDENTIFIED WITH … AS. */
  | { kind: 'native-hash-with'; hash: string }
  /**
   * MySQL 8.4+: mysql_native_password is off by default, and caching_sha2_password takes no
   * client-side hash that jit can compute portably, so the password itself is sent (MySQL
   * rewrites IDENTIFIED BY in its general, slow and binary logs).
   */
  | { kind: 'caching-sha2'; password: string };

const accountList = (login: string, hosts: readonly string[]) => {
  if (hosts.length === 0) throw new Error('at least one host is needed');
  return hosts.map((h) => quoteAccount(login, h));
};

function identified(auth: AccountAuth): string {
  switch (auth.kind) {
    case 'native-hash':
      return `IDENTIFIED BY PASSWORD ${escapeLiteral(auth.hash)}`;
    case 'native-hash-with':
      return `IDENTIFIED WITH mysql_native_password AS ${escapeLiteral(auth.hash)}`;
    case 'caching-sha2':
      return `IDENTIFIED WITH caching_sha2_password BY ${escapeLiteral(auth.password)}`;
  }
}

export interface CreateUserSpec {
  login: string;
  hosts: readonly string[];
  auth: AccountAuth;
  /** -1 for unlimited (MAX_USER_CONNECTIONS 0). */
  connectionLimit: number;
  requireSsl: boolean;
  /** MariaDB: the account's MAX_STATEMENT_TIME (policy statement_timeout), in ms; absent: none. */
  maxStatementTimeMs?: number;
  /**
   * MySQL 8.0.21+: the lease, also as the account's user attribute (`{"jit": marker}`), so a DBA
   * sees it in information_schema.USER_ATTRIBUTES. Informational: the ledger is what jit reads.
   */
  attribute?: Record<string, unknown>;
}

/** One CREATE USER for every host of the login; same password, TLS requirement and limit everywhere. */
export function createUserSql(spec: CreateUserSpec): string {
  const limit = spec.connectionLimit < 0 ? 0 : Math.floor(spec.connectionLimit);
  const each = accountList(spec.login, spec.hosts).map((a) => `${a} ${identified(spec.auth)}`);
  const attribute = spec.attribute ? ` ATTRIBUTE ${escapeLiteral(JSON.stringify({ jit: spec.attribute }))}` : '';
  const statementTime = spec.maxStatementTimeMs === undefined ? '' : ` MAX_STATEMENT_TIME ${secondsValue(spec.maxStatementTimeMs)}`;
  return `CREATE USER ${each.join(', ')}${spec.requireSsl ? ' REQUIRE SSL' : ''} WITH MAX_USER_CONNECTIONS ${limit}${statementTime}${attribute}`;
}

/** Milliseconds as the decimal seconds MAX_STATEMENT_TIME takes: only digits and a point reach the SQL. */
function secondsValue(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms <= 0) throw new Error(`not a positive whole number of milliseconds: ${ms}`);
  return (ms / 1000).toFixed(3).replace(/\.?0+$/, '');
}

/** MySQL 8.0.21+: merge a change of the lease (its new expires_at) into each account's user attribute. */
export function alterUserAttributeSql(login: string, hosts: readonly string[], change: Record<string, unknown>): string[] {
  return accountList(login, hosts).map((a) => `ALTER USER ${a} ATTRIBUTE ${escapeLiteral(JSON.stringify({ jit: change }))}`);
}

/** `GRANT privs ON `schema`.`table` / `schema`.* TO every account`, one statement per object. */
export function grantSqls(grants: readonly Grant[], login: string, hosts: readonly string[]): string[] {
  return grantSqlsTo(grants, accountList(login, hosts).join(', '));
}

/** The same grants to a MariaDB role (a role is named without a host). */
export function roleGrantSqls(grants: readonly Grant[], role: string): string[] {
  return grantSqlsTo(grants, quoteIdent(role));
}

function grantSqlsTo(grants: readonly Grant[], to: string): string[] {
  const out: string[] = [];
  for (const g of grants) {
    const privs = g.privileges.map(privilegeKeyword).join(', ');
    for (const t of g.tables ?? []) out.push(`GRANT ${privs} ON ${quoteIdent(t.schema)}.${quoteIdent(t.name)} TO ${to}`);
    if (g.schema) out.push(`GRANT ${privs} ON ${quoteIdent(schemaGrantName(g.schema))}.* TO ${to}`);
    if (g.sequences?.length) throw new Error('MySQL has no sequence grants');
  }
  return out;
}

/**
 * In `GRANT … ON db.*` the database name is a LIKE pattern: `app_1`.* also covers `appx1`, and
 * `ji_`.* covers jit's ledger. `\_` and `\%` (a backslash inside backticks is literal) make the
 * grant cover the one schema the policy names.
 */
export function schemaGrantName(schema: string): string {
  return schema.replace(/[\\_%]/g, (c) => `\\${c}`);
}

/** Privileges are keywords, never quoted: only the allow-list's plain words pass. */
function privilegeKeyword(p: string): string {
  if (!/^[A-Z][A-Z ]*$/.test(p)) throw new Error(`not a privilege keyword: ${JSON.stringify(p)}`);
  return p;
}

/** `GRANT r1, r2 TO role`: roles granted to a (MariaDB) role, active wherever that role is. */
export function grantRolesToRoleSql(roles: readonly string[], role: string): string {
  if (roles.length === 0) throw new Error('at least one role is needed');
  return `GRANT ${roles.map(quoteIdent).join(', ')} TO ${quoteIdent(role)}`;
}

export function revokeRoleFromRoleSql(held: string, role: string): string {
  return `REVOKE ${quoteIdent(held)} FROM ${quoteIdent(role)}`;
}

/**
 * Every privilege of a role, at every level. It needs only CREATE USER (not a grant option on
 * what is revoked), so it also clears what another account granted. MariaDB 10.11 fails it
 * (1147) midway for a role that holds other roles: revoke those first.
 */
export function revokeAllFromRoleSql(role: string): string {
  return `REVOKE ALL PRIVILEGES, GRANT OPTION FROM ${quoteIdent(role)}`;
}

/** Some privileges on one table or schema (`schema` already in its GRANT form, see schemaGrantName). */
export function revokeFromRoleSql(privileges: readonly string[], on: { schema: string; table?: string }, role: string): string {
  if (privileges.length === 0) throw new Error('at least one privilege is needed');
  const target = on.table === undefined ? `${quoteIdent(on.schema)}.*` : `${quoteIdent(on.schema)}.${quoteIdent(on.table)}`;
  return `REVOKE ${privileges.map(privilegeKeyword).join(', ')} ON ${target} FROM ${quoteIdent(role)}`;
}

/** MariaDB: CREATE ROLE, held by the current user WITH ADMIN OPTION (so it may grant the role). */
export function createRoleSql(role: string): string {
  return `CREATE ROLE ${quoteIdent(role)} WITH ADMIN CURRENT_USER`;
}

export function grantRolesSql(roles: readonly string[], login: string, hosts: readonly string[]): string {
  if (roles.length === 0) throw new Error('at least one role is needed');
  return `GRANT ${roles.map(quoteIdent).join(', ')} TO ${accountList(login, hosts).join(', ')}`;
}

/**
 * A granted role is inactive at login until it is a default role. MariaDB takes one default
 * role per account (SET DEFAULT ROLE r FOR a); MySQL 8 activates all of them.
 */
export function defaultRoleSqls(mariadb: boolean, roles: readonly string[], login: string, hosts: readonly string[]): string[] {
  if (roles.length === 0) return [];
  if (!mariadb) return [`SET DEFAULT ROLE ALL TO ${accountList(login, hosts).join(', ')}`];
  if (roles.length > 1) throw new Error('MariaDB activates one default role per account');
  return accountList(login, hosts).map((a) => `SET DEFAULT ROLE ${quoteIdent(roles[0]!)} FOR ${a}`);
}

/** Run as the login itself: an account may always set its own default role. */
export function ownDefaultRoleSql(role: string): string {
  return `SET DEFAULT ROLE ${quoteIdent(role)}`;
}

export function lockAccountsSql(login: string, hosts: readonly string[]): string {
  return `ALTER USER IF EXISTS ${accountList(login, hosts).join(', ')} ACCOUNT LOCK`;
}

/** Block many logins in one statement (revoke --all blocks all before it ends any session). */
export function lockManySql(accounts: ReadonlyArray<{ login: string; host: string }>): string {
  if (accounts.length === 0) throw new Error('at least one account is needed');
  return `ALTER USER IF EXISTS ${accounts.map((a) => quoteAccount(a.login, a.host)).join(', ')} ACCOUNT LOCK`;
}

export function dropAccountsSql(accounts: ReadonlyArray<{ login: string; host: string }>): string {
  if (accounts.length === 0) throw new Error('at least one account is needed');
  return `DROP USER IF EXISTS ${accounts.map((a) => quoteAccount(a.login, a.host)).join(', ')}`;
}

export function dropUsersSql(login: string, hosts: readonly string[]): string {
  return `DROP USER IF EXISTS ${accountList(login, hosts).join(', ')}`;
}

/** KILL takes no parameter: the id is an integer from PROCESSLIST, checked here. */
export function killSql(threadId: number | string | bigint, what: 'CONNECTION' | 'QUERY' = 'CONNECTION'): string {
  const id = String(threadId);
  if (!/^[0-9]+$/.test(id)) throw new Error(`not a thread id: ${JSON.stringify(id)}`);
  return `KILL ${what} ${id}`;
}

export function eventName(login: string): string {
  return `${quoteIdent(LEDGER_SCHEMA)}.${quoteIdent(EVENT_PREFIX + login)}`;
}

/** Event times are whole seconds: round up, so the backstop never fires before expiry. */
function eventAt(at: Date): string {
  const ms = Math.ceil(at.getTime() / 1000) * 1000;
  return escapeLiteral(utcDatetime(new Date(ms)).replace(/\.\d+$/, ''));
}

/**
 * The server-side backstop: at expiry, lock every account of the login, kill its threads (a
 * cursor over PROCESSLIST; 1094 "unknown thread" for one that ended meanwhile is ignored), drop
 * the accounts and the ledger row. It runs with the definer's rights, the admin's: KILL of
 * another user's thread needs CONNECTION ADMIN (MariaDB) / CONNECTION_ADMIN (MySQL) or SUPER.
 * The session's time_zone is UTC when this is created, and the event keeps that zone.
 */
export function createEventSql(login: string, hosts: readonly string[], at: Date): string {
  const user = escapeLiteral(login);
  return (
    `CREATE DEFINER = CURRENT_USER EVENT ${eventName(login)} ON SCHEDULE AT ${eventAt(at)} ON COMPLETION NOT PRESERVE ` +
    `COMMENT ${escapeLiteral(`jit: drop login ${login} at expiry`)} DO BEGIN ` +
    'DECLARE done INT DEFAULT 0; ' +
    'DECLARE tid BIGINT UNSIGNED; ' +
    `DECLARE threads CURSOR FOR SELECT p.ID FROM information_schema.PROCESSLIST p WHERE ${PL_USER} = ${user}; ` +
    'DECLARE CONTINUE HANDLER FOR NOT FOUND SET done = 1; ' +
    'DECLARE CONTINUE HANDLER FOR 1094 BEGIN END; ' +
    `${lockAccountsSql(login, hosts)}; ` +
    'OPEN threads; ' +
    'kill_loop: LOOP FETCH threads INTO tid; IF done THEN LEAVE kill_loop; END IF; KILL CONNECTION tid; END LOOP; ' +
    'CLOSE threads; ' +
    `${dropUsersSql(login, hosts)}; ` +
    `DELETE FROM ${LEDGER} WHERE login = ${user}; ` +
    'END'
  );
}

export function alterEventSql(login: string, at: Date): string {
  return `ALTER EVENT ${eventName(login)} ON SCHEDULE AT ${eventAt(at)}`;
}

export function dropEventSql(login: string): string {
  return `DROP EVENT IF EXISTS ${eventName(login)}`;
}
