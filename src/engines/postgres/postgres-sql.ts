import type { LeaseMarker } from '../engine.js';
import type { Grant } from '../../policy/types.js';
import { dollarQuote, MINT_LOCK_KEY, privilegeList, SEQUENCE_PRIVILEGES, TABLE_PRIVILEGES } from './postgres-sql-common.js';
import { ensureGroupSql, groupMembershipSql, groupName, type GroupSpec } from './postgres-group.js';
import { escapeLiteral, ident, qualified, timestampLiteral } from './postgres-quote.js';
import { sessionLimitsSql } from './postgres-limits.js';
import type { SessionLimits } from '../../policy/types.js';

export { dollarQuote, MINT_LOCK_KEY };

/** Every SQL string the Postgres engine sends. Names only through ident(), values through escapeLiteral() or $n. */

export { MARKER_ROLE, isMinted } from './postgres-sql-common.js';
import { MARKER_ROLE, isMinted } from './postgres-sql-common.js';

/**
 * The database pg_cron's launcher is connected to (cron.database_name, which only superusers and
 * pg_read_all_settings may read), NULL when none runs or the admin may not see backend types
 * (pg_read_all_stats).
 */
export const CRON_LAUNCHER_DATABASE =
  "(SELECT a.datname::text FROM pg_catalog.pg_stat_activity a WHERE a.backend_type = 'pg_cron launcher' LIMIT 1)";

/** Raised by the marker check below; translated in postgres-errors.ts. */
export const MARKER_CONFLICT_SQLSTATE = 'JIT01';

/** Raised by markerGrantSql on PostgreSQL 15 while the marker holds anything. */
export const MARKER_PRIVILEGES_SQLSTATE = 'JIT03';

/** Raised by extendSql when the login's VALID UNTIL is already past on the server's clock. */
export const EXPIRED_SQLSTATE = 'JIT02';



/**
 * Creates the marker role when missing. Swallows 42710 and 23505: a concurrent CREATE ROLE (a
 * mint through a group role takes no lock) loses on pg_authid's unique index. A pre-existing `jit`
 * that can log in is someone's real role: refuse rather than turn its members into "jit logins".
 */
export function ensureMarkerRoleSql(): string {
  const lit = escapeLiteral(MARKER_ROLE);
  return [
    'DO $jit$ BEGIN',
    `IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = ${lit} AND (rolcanlogin OR rolsuper)) THEN`,
    `RAISE EXCEPTION 'role ${MARKER_ROLE} exists and can log in, but jit needs it as its NOLOGIN marker role' USING ERRCODE = '${MARKER_CONFLICT_SQLSTATE}';`,
    'END IF;',
    `IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = ${lit}) THEN`,
    `CREATE ROLE ${ident(MARKER_ROLE)} NOLOGIN;`,
    `COMMENT ON ROLE ${ident(MARKER_ROLE)} IS 'jit marker: members are short-lived logins minted by jit; grant this role nothing';`,
    'END IF;',
    'EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;',
    'END $jit$',
  ].join(' ');
}


/**
 * CONNECT on the database and USAGE on each schema, granted only where the login lacks them
 * (e.g. through PUBLIC): an admin that does not own `public` or the database would otherwise
 * get WARNING 01007 "no privileges were granted", which mint treats as a failure.
 */
export function accessSql(login: string, database: string, schemas: string[]): string {
  const [l, to] = [escapeLiteral(login), ident(login)];
  const steps = [
    `IF NOT pg_catalog.has_database_privilege(${l}, ${escapeLiteral(database)}, 'CONNECT') THEN ` +
      `GRANT CONNECT ON DATABASE ${ident(database)} TO ${to}; END IF;`,
    ...schemas.map(
      (s) => `IF NOT pg_catalog.has_schema_privilege(${l}, ${escapeLiteral(s)}, 'USAGE') THEN GRANT USAGE ON SCHEMA ${ident(s)} TO ${to}; END IF;`,
    ),
  ];
  return `DO ${dollarQuote(` BEGIN ${steps.join(' ')} END `)}`;
}

/** The login's grants: access first (a table grant is useless without schema USAGE), then objects, then groups. */
export function grantStatements(login: string, database: string, grants: Grant[], memberOf: string[]): string[] {
  const to = ident(login);
  const schemas = new Set<string>();
  const body: string[] = [];
  for (const g of grants) {
    if (g.privileges.length === 0) continue;
    if (g.tables?.length) {
      g.tables.forEach((t) => schemas.add(t.schema));
      const list = g.tables.map((t) => qualified(t.schema, t.name)).join(', ');
      body.push(`GRANT ${privilegeList(g.privileges, TABLE_PRIVILEGES, 'tables')} ON TABLE ${list} TO ${to}`);
    }
    if (g.schema) {
      schemas.add(g.schema);
      body.push(`GRANT ${privilegeList(g.privileges, TABLE_PRIVILEGES, 'tables')} ON ALL TABLES IN SCHEMA ${ident(g.schema)} TO ${to}`);
    }
    if (g.sequences?.length) {
      g.sequences.forEach((s) => schemas.add(s.schema));
      const list = g.sequences.map((s) => qualified(s.schema, s.name)).join(', ');
      body.push(`GRANT ${privilegeList(g.privileges, SEQUENCE_PRIVILEGES, 'sequences')} ON SEQUENCE ${list} TO ${to}`);
    }
  }
  return [accessSql(login, database, [...schemas]), ...body, ...memberOf.map((group) => `GRANT ${ident(group)} TO ${to}`)];
}

export interface MintSqlInput {
  login: string;
  /** SCRAM verifier, never the plaintext: statement logs then never hold the password. */
  verifier: string;
  validUntil: Date;
  /** -1 for unlimited. */
  connectionLimit: number;
  marker: LeaseMarker;
  database: string;
  grants: Grant[];
  memberOf: string[];
  /** Session limits, set on the login as role settings (postgres-limits.ts). */
  limits?: SessionLimits;
  /** The role's group role, which holds `grants` and `memberOf` for every login of the role; absent: grants to the login itself. */
  group?: GroupSpec;
}

/**
 * The whole mint as one simple-query string: one round trip, one transaction. DDL takes no bind
 * parameters, hence quoting. INHERIT because the group's (or member_of groups') privileges only
 * reach the login through inheritance. With `group`, the login is only made a member of the
 * role's group role (postgres-group.ts), which takes the mint lock only when it must be built or
 * rebuilt; without, the login gets the grants itself, under the lock (`--only` narrowing).
 */
export function mintSql(input: MintSqlInput): string {
  const login = ident(input.login);
  const limit = input.connectionLimit >= 0 ? ` CONNECTION LIMIT ${Math.floor(input.connectionLimit)}` : '';
  const group = input.group;
  return [
    'BEGIN',
    "SET LOCAL statement_timeout = '30s'",
    ...(group ? [] : [`SELECT pg_catalog.pg_advisory_xact_lock(${MINT_LOCK_KEY})`]),
    ensureMarkerRoleSql(),
    ...(group ? [ensureGroupSql(group)] : []),
    `CREATE ROLE ${login} WITH LOGIN INHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS` +
      `${limit} VALID UNTIL ${timestampLiteral(input.validUntil)} PASSWORD ${escapeLiteral(input.verifier)}`,
    commentSql(input.login, input.marker),
    markerGrantSql(input.login),
    grantLoginToAdminSql(input.login),
    ...(group ? [groupMembershipSql(groupName(group), input.login)] : grantStatements(input.login, input.database, input.grants, input.memberOf)),
    ...sessionLimitsSql(input.login, input.limits),
    // The moment the login exists (now() is the transaction's start, before any lock wait), and
    // whether pg_cron runs for the expiry backstop, in the same round trip.
    `SELECT pg_catalog.clock_timestamp() AS server_now, ${CRON_LAUNCHER_DATABASE} AS cron_database`,
    'COMMIT',
  ].join(';\n');
}

/**
 * Membership in the marker must carry no privileges: anything granted to `jit` would otherwise
 * reach every login. PostgreSQL 16+ says so per membership (INHERIT FALSE, SET FALSE). 15 has no
 * such option, and the alternatives break something else (a NOINHERIT login loses its member_of
 * groups; a login found without the membership could be forged by any CREATEROLE role and would
 * not be found by `list --all` once its comment was edited). So on 15 the mint refuses, in the
 * same transaction and under the mint lock, while anything is granted to or owned by `jit`, in any
 * database (pg_shdepend is cluster-wide), or `jit` is a member of any role; `doctor` names the
 * REVOKE. Decided on the server (a team-mode function body runs the same statement).
 */
export function markerGrantSql(login: string): string {
  const marker = ident(MARKER_ROLE);
  const to = ident(login);
  const body =
    `BEGIN IF pg_catalog.current_setting('server_version_num')::int >= 160000 THEN ` +
    `EXECUTE ${escapeLiteral(`GRANT ${marker} TO ${to} WITH INHERIT FALSE, SET FALSE`)}; ELSE ` +
    `IF ${markerHoldsSomethingSql()} THEN RAISE EXCEPTION 'role ${MARKER_ROLE} holds privileges, objects or memberships, which every jit login would inherit' ` +
    `USING ERRCODE = '${MARKER_PRIVILEGES_SQLSTATE}', HINT = 'run jit doctor: it names the REVOKE that fixes it'; END IF; ` +
    `EXECUTE ${escapeLiteral(`GRANT ${marker} TO ${to}`)}; END IF; END`;
  return `DO ${dollarQuote(body)}`;
}

/** True when the marker has been granted anything, owns anything, or is a member of a role. */
function markerHoldsSomethingSql(): string {
  const j = `(SELECT oid FROM pg_catalog.pg_roles WHERE rolname = ${escapeLiteral(MARKER_ROLE)})`;
  return (
    `(EXISTS (SELECT 1 FROM pg_catalog.pg_shdepend d WHERE d.refclassid = 'pg_catalog.pg_authid'::pg_catalog.regclass AND d.refobjid = ${j}) ` +
    `OR EXISTS (SELECT 1 FROM pg_catalog.pg_auth_members m WHERE m.member = ${j}))`
  );
}

/**
 * Everything granted to the marker, one row each: what (text) and the statement that removes it
 * (fix). The current database in detail; other databases as a count from pg_shdepend.
 */
export const MARKER_HOLDINGS_SQL = (() => {
  // MARKER_ROLE is a fixed lower-case word: in the fix text it needs no quoting.
  const m = escapeLiteral(MARKER_ROLE);
  const j = `(SELECT oid FROM pg_catalog.pg_roles WHERE rolname = ${m})`;
  const rev = (on: string) => `'REVOKE ALL ON ' || ${on} || ' FROM ${MARKER_ROLE}'`;
  return [
    `SELECT 'is a member of role ' || pg_catalog.quote_ident(g.rolname) AS what, 'REVOKE ' || pg_catalog.quote_ident(g.rolname) || ' FROM ${MARKER_ROLE}' AS fix ` +
      `FROM pg_catalog.pg_auth_members x JOIN pg_catalog.pg_roles g ON g.oid = x.roleid WHERE x.member = ${j}`,
    `SELECT DISTINCT 'has privileges on ' || CASE WHEN c.relkind = 'S' THEN 'sequence ' ELSE 'table ' END || c.oid::pg_catalog.regclass::text, ` +
      `${rev(`CASE WHEN c.relkind = 'S' THEN 'SEQUENCE ' ELSE 'TABLE ' END || c.oid::pg_catalog.regclass::text`)} ` +
      `FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) a WHERE a.grantee = ${j}`,
    `SELECT DISTINCT 'has privileges on column ' || pg_catalog.quote_ident(t.attname) || ' of ' || t.attrelid::pg_catalog.regclass::text, ` +
      `'REVOKE ALL (' || pg_catalog.quote_ident(t.attname) || ') ON TABLE ' || t.attrelid::pg_catalog.regclass::text || ' FROM ${MARKER_ROLE}' ` +
      `FROM pg_catalog.pg_attribute t, pg_catalog.aclexplode(t.attacl) a WHERE a.grantee = ${j}`,
    `SELECT DISTINCT 'has privileges on schema ' || pg_catalog.quote_ident(n.nspname), ${rev(`'SCHEMA ' || pg_catalog.quote_ident(n.nspname)`)} ` +
      `FROM pg_catalog.pg_namespace n, pg_catalog.aclexplode(n.nspacl) a WHERE a.grantee = ${j}`,
    `SELECT DISTINCT 'has privileges on function ' || p.oid::pg_catalog.regprocedure::text, ${rev(`'FUNCTION ' || p.oid::pg_catalog.regprocedure::text`)} ` +
      `FROM pg_catalog.pg_proc p, pg_catalog.aclexplode(p.proacl) a WHERE a.grantee = ${j}`,
    `SELECT DISTINCT 'has privileges on database ' || pg_catalog.quote_ident(b.datname), ${rev(`'DATABASE ' || pg_catalog.quote_ident(b.datname)`)} ` +
      `FROM pg_catalog.pg_database b, pg_catalog.aclexplode(b.datacl) a WHERE a.grantee = ${j}`,
    // dbid 0: shared objects (a database or tablespace jit owns), which have no database.
    `SELECT 'owns ' || count(*) || ' object(s) in ' || coalesce('database ' || pg_catalog.quote_ident(b.datname), 'the cluster (a database or tablespace)'), ` +
      `coalesce('in database ' || pg_catalog.quote_ident(b.datname) || ': ', 'in any database: ') || 'REASSIGN OWNED BY ${MARKER_ROLE} TO ' || pg_catalog.quote_ident(current_user::text) ` +
      `FROM pg_catalog.pg_shdepend d LEFT JOIN pg_catalog.pg_database b ON b.oid = d.dbid ` +
      `WHERE d.refclassid = 'pg_catalog.pg_authid'::pg_catalog.regclass AND d.refobjid = ${j} AND d.deptype = 'o' GROUP BY b.datname`,
    `SELECT 'has ' || count(*) || ' grant(s) or polic(ies) in database ' || pg_catalog.quote_ident(b.datname), ` +
      `'in database ' || pg_catalog.quote_ident(b.datname) || ': DROP OWNED BY ${MARKER_ROLE} (after any REASSIGN OWNED)' ` +
      `FROM pg_catalog.pg_shdepend d JOIN pg_catalog.pg_database b ON b.oid = d.dbid ` +
      `WHERE d.refclassid = 'pg_catalog.pg_authid'::pg_catalog.regclass AND d.refobjid = ${j} AND d.deptype <> 'o' ` +
      `AND b.datname <> pg_catalog.current_database() GROUP BY b.datname`,
  ].join(' UNION ALL ') + ' ORDER BY 1';
})();

export function commentSql(login: string, marker: LeaseMarker): string {
  return `COMMENT ON ROLE ${ident(login)} IS ${escapeLiteral(JSON.stringify(marker))}`;
}

export function extendSql(login: string, validUntil: Date, marker: LeaseMarker): string {
  // Expired is final, by the server's clock: a laptop with a skewed clock or a stale lease file
  // must not bring a login back to life by moving VALID UNTIL out again.
  const refuse = dollarQuote(
    `BEGIN IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = ${escapeLiteral(login)} ` +
      `AND rolvaliduntil IS NOT NULL AND rolvaliduntil <= pg_catalog.now()) THEN ` +
      `RAISE EXCEPTION 'login has expired on the server' USING ERRCODE = '${EXPIRED_SQLSTATE}'; END IF; END`,
  );
  return [
    'BEGIN',
    `DO ${refuse}`,
    `ALTER ROLE ${ident(login)} VALID UNTIL ${timestampLiteral(validUntil)}`,
    commentSql(login, marker),
    'COMMIT',
  ].join(';\n');
}

/** $1 = login. One row when the role exists: its oid, whether it carries the marker, and what the admin may do to it. */
export const ROLE_INFO_SQL =
  `SELECT r.oid, ${isMinted('r')} AS marked, ` +
  `pg_catalog.pg_has_role(current_user, r.oid, 'USAGE') AS admin_has_role, ` +
  `pg_catalog.current_setting('server_version_num')::int AS server_version ` +
  `FROM pg_catalog.pg_roles r WHERE r.rolname = $1`;

/**
 * Makes a non-superuser admin a member of the login, with its privileges: what lets it terminate
 * the login's sessions (pg_terminate_backend, without pg_signal_backend), see their query, state
 * and client address in pg_stat_activity (else "<insufficient privilege>"), and REASSIGN/DROP
 * OWNED BY the login (42501 without). Run at mint, and at revoke for a login minted without it.
 * PostgreSQL 16+ already makes the creating admin a member, but WITH ADMIN OPTION only (INHERIT
 * FALSE, SET FALSE, by createrole_self_grant's default), so grant INHERIT explicitly there; SET
 * is not needed. A superuser has every role's privileges already: nothing is granted.
 */
export function grantLoginToAdminSql(login: string): string {
  const to = `GRANT ${ident(login)} TO CURRENT_USER`;
  const body =
    `BEGIN IF NOT pg_catalog.pg_has_role(CURRENT_USER, ${escapeLiteral(login)}, 'USAGE') THEN ` +
    `IF pg_catalog.current_setting('server_version_num')::int >= 160000 THEN EXECUTE ${escapeLiteral(`${to} WITH INHERIT TRUE, SET FALSE`)}; ` +
    `ELSE EXECUTE ${escapeLiteral(to)}; END IF; END IF; END`;
  return `DO ${dollarQuote(body)}`;
}

export const blockLoginSql = (login: string) => `ALTER ROLE ${ident(login)} NOLOGIN`;

/**
 * $1 = role oid. By usesysid: after a DROP ROLE usename is NULL while the session lives on.
 * PG ≥ 14 takes a timeout and waits for the backend to exit, so DROP OWNED does not race it.
 */
export function terminateSql(serverVersion: number): string {
  const call = serverVersion >= 140000 ? 'pg_catalog.pg_terminate_backend(pid, 5000)' : 'pg_catalog.pg_terminate_backend(pid)';
  return (
    `SELECT count(*) FILTER (WHERE ${call})::int AS terminated FROM pg_catalog.pg_stat_activity ` +
    `WHERE usesysid = $1 AND pid <> pg_catalog.pg_backend_pid()`
  );
}

/** $1 = role oid. Databases holding the role's objects or grants; the join drops dbid 0 (shared objects). */
export const OWNED_DATABASES_SQL =
  `SELECT DISTINCT d.datname FROM pg_catalog.pg_shdepend s JOIN pg_catalog.pg_database d ON d.oid = s.dbid ` +
  `WHERE s.refclassid = 'pg_catalog.pg_authid'::regclass AND s.refobjid = $1 ORDER BY 1`;

/**
 * Both act on the current database only. One simple-query string runs as one implicit
 * transaction: when REASSIGN fails nothing is dropped that the policy wanted kept, and the
 * advisory lock is held to the end. DROP OWNED also revokes the login's
 * grants, without which DROP ROLE fails with 2BP01.
 */
export function dropOwnedSql(login: string, owner?: string): string {
  return [
    // DROP OWNED rewrites the ACL of every table the login was granted on: concurrent revokes
    // (and mints) touching one table fail with XX000 "tuple concurrently updated" without this.
    `SELECT pg_catalog.pg_advisory_xact_lock(${MINT_LOCK_KEY})`,
    ...(owner ? [`REASSIGN OWNED BY ${ident(login)} TO ${ident(owner)}`] : []),
    revokeSequenceGrantsSql([login]),
    `DROP OWNED BY ${ident(login)}`,
  ].join(';\n');
}

/**
 * Each privilege the logins hold on a sequence, revoked by name. DROP OWNED (and REVOKE ALL)
 * revokes ALL on a sequence as on a table, column privileges included, and an admin holding only
 * `USAGE … WITH GRANT OPTION` on it then fails with 42501 "permission denied for column
 * tableoid": the login could never be dropped. Names are quoted by the server's format('%I').
 */
export function revokeSequenceGrantsSql(logins: string[]): string {
  return `DO ${dollarQuote(` ${revokeSequenceGrantsBlock(logins)} `)}`;
}

/** The same as a PL/pgSQL block, for a DO body of its own (the pg_cron expire job). */
export function revokeSequenceGrantsBlock(logins: string[]): string {
  const names = `ARRAY[${logins.map(escapeLiteral).join(', ')}]::text[]`;
  return (
    `DECLARE s record; BEGIN FOR s IN SELECT n.nspname, c.relname, a.privilege_type, g.rolname ` +
    `FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace, pg_catalog.aclexplode(c.relacl) a ` +
    `JOIN pg_catalog.pg_roles g ON g.oid = a.grantee WHERE c.relkind = 'S' AND g.rolname = ANY (${names}) LOOP ` +
    `EXECUTE pg_catalog.format('REVOKE %s ON SEQUENCE %I.%I FROM %I', s.privilege_type, s.nspname, s.relname, s.rolname); END LOOP; END`
  );
}

export const dropRoleSql = (login: string) => `DROP ROLE IF EXISTS ${ident(login)}`;

// Two revocations of one login (the reaper at expiry and `jit revoke`, two on-call engineers)
// take turns: the second then finds the role gone instead of failing half-way with 42704.
// The two-key form lives in a keyspace apart from MINT_LOCK_KEY's single bigint.
export const REVOKE_LOCK_CLASS = 1786311717; // 'jit%' as a big-endian int4
export const REVOKE_LOCK_SQL = `SELECT pg_catalog.pg_advisory_lock(${REVOKE_LOCK_CLASS}, pg_catalog.hashtext($1))`;
export const REVOKE_UNLOCK_SQL = `SELECT pg_catalog.pg_advisory_unlock(${REVOKE_LOCK_CLASS}, pg_catalog.hashtext($1))`;

/** Backends of the role still alive after termination (pg_terminate_backend's wait can time out). */
export const REMAINING_SESSIONS_SQL =
  'SELECT count(*)::int AS remaining FROM pg_catalog.pg_stat_activity WHERE usesysid = $1 AND pid <> pg_catalog.pg_backend_pid()';

/** The logins jit minted (isMinted), with their lease comment, server-side expiry and live session count. */
export const LIST_LOGINS_SQL =
  `SELECT r.rolname AS login, r.rolvaliduntil AS valid_until, ` +
  `pg_catalog.shobj_description(r.oid, 'pg_authid') AS comment, ` +
  `(SELECT count(*) FROM pg_catalog.pg_stat_activity a WHERE a.usesysid = r.oid)::int AS sessions ` +
  `FROM pg_catalog.pg_roles r WHERE ${isMinted('r')} ORDER BY r.rolname`;

export const SESSIONS_SQL =
  `SELECT r.rolname AS login, a.pid, pg_catalog.host(a.client_addr) AS client_addr, a.backend_start, a.state, ` +
  `pg_catalog.left(a.query, 200) AS query FROM pg_catalog.pg_stat_activity a ` +
  `JOIN pg_catalog.pg_roles r ON r.oid = a.usesysid WHERE ${isMinted('r')} ORDER BY a.backend_start, a.pid`;

export const SERVER_TIME_SQL = "SELECT pg_catalog.now() AS server_now, pg_catalog.current_setting('server_version_num')::int AS server_version";

/**
 * What checkPrivileges() needs, in one row. Names come quoted by the server (quote_ident) for
 * the fixes the messages name. `marker_admin`: since PostgreSQL 16 granting the marker takes
 * ADMIN OPTION on it, which the admin has only when it created the marker itself.
 * `connect_grantable`: the mint grants CONNECT only when PUBLIC lacks it.
 */
export const ADMIN_PRIVILEGES_SQL =
  `SELECT a.rolsuper AS superuser, a.rolcreaterole AS createrole, a.rolinherit AS inherit, ` +
  `pg_catalog.quote_ident(a.rolname) AS admin_ident, pg_catalog.quote_ident(pg_catalog.current_database()) AS database_ident, ` +
  `pg_catalog.has_database_privilege('public', pg_catalog.current_database(), 'CONNECT') ` +
  `OR pg_catalog.has_database_privilege(pg_catalog.current_database(), 'CONNECT WITH GRANT OPTION') AS connect_grantable, ` +
  `j.oid IS NOT NULL AS marker_exists, coalesce(j.rolcanlogin OR j.rolsuper, false) AS marker_can_login, ` +
  `(j.oid IS NULL OR pg_catalog.pg_has_role(current_user, j.oid, 'USAGE WITH ADMIN OPTION')) AS marker_admin, ` +
  `coalesce((SELECT count(*) FROM pg_catalog.pg_auth_members m WHERE m.member = j.oid), 0)::int AS marker_memberships, ` +
  `pg_catalog.current_setting('server_version_num')::int AS server_version, ` +
  // Other databases any role may connect to (PostgreSQL's default): a minted login can too.
  `ARRAY(SELECT pg_catalog.quote_ident(d.datname) FROM pg_catalog.pg_database d WHERE d.datname <> pg_catalog.current_database() ` +
  `AND d.datallowconn AND NOT d.datistemplate AND pg_catalog.has_database_privilege('public', d.oid, 'CONNECT') ORDER BY 1) AS public_connect ` +
  `FROM pg_catalog.pg_roles a LEFT JOIN pg_catalog.pg_roles j ON j.rolname = ${escapeLiteral(MARKER_ROLE)} ` +
  `WHERE a.rolname = current_user`;

/** Predefined roles whose rights an owner must not hold: objects handed to it at revoke would run with them. */
export const OWNER_FORBIDDEN_ROLES = ['pg_execute_server_program', 'pg_read_server_files', 'pg_write_server_files', 'pg_read_all_data', 'pg_write_all_data'];

/** The policy's `owner` as the server sees it; no row when the role does not exist. $1 = owner. */
export const OWNER_CHECK_SQL =
  `SELECT r.rolsuper AS superuser, r.rolcreaterole AS createrole, r.rolbypassrls AS bypassrls, ` +
  `r.rolreplication AS replication, r.rolcanlogin AS can_login, r.rolname = current_user AS is_admin, ` +
  // REASSIGN OWNED ... TO owner takes the owner's privileges (42501 "permission denied to reassign objects").
  `pg_catalog.pg_has_role(current_user, r.oid, 'USAGE') AS admin_has_privileges, pg_catalog.quote_ident(r.rolname) AS owner_ident, ` +
  `pg_catalog.quote_ident(current_user::text) AS admin_ident, ` +
  `(pg_catalog.starts_with(r.rolname, 'jit_') OR EXISTS (SELECT 1 FROM pg_catalog.pg_auth_members m ` +
  `JOIN pg_catalog.pg_roles j ON j.oid = m.roleid WHERE m.member = r.oid AND j.rolname = ${escapeLiteral(MARKER_ROLE)})) AS jit_login, ` +
  `ARRAY(SELECT p.rolname::text FROM pg_catalog.pg_roles p WHERE p.rolname IN (${OWNER_FORBIDDEN_ROLES.map(escapeLiteral).join(', ')}) ` +
  `AND pg_catalog.pg_has_role(r.oid, p.oid, 'USAGE') ORDER BY p.rolname) AS powerful ` +
  `FROM pg_catalog.pg_roles r WHERE r.rolname = $1`;

/** pg_hba.conf as the server parsed it; superusers only unless EXECUTE on pg_hba_file_rules() was granted (42501). */
export const HBA_RULES_SQL = 'SELECT line_number, type, database, user_name, auth_method, error FROM pg_catalog.pg_hba_file_rules ORDER BY line_number';

// ---- Revoking many logins of one server together (`revoke --all`, the reaper's due batch) ----

/** $1 = text[] of logins. One row per existing role, with what ROLE_INFO_SQL gives for one. */
export const ROLES_INFO_SQL =
  `SELECT r.rolname AS login, r.oid, ${isMinted('r')} AS marked, ` +
  `pg_catalog.pg_has_role(current_user, r.oid, 'USAGE') AS admin_has_role, ` +
  `pg_catalog.current_setting('server_version_num')::int AS server_version ` +
  `FROM pg_catalog.pg_roles r WHERE r.rolname = ANY($1::text[])`;

/** $1 = text[] of logins, sorted: batches take the per-login revoke locks in one order, so two never deadlock. */
export const REVOKE_LOCK_MANY_SQL =
  `SELECT pg_catalog.pg_advisory_lock(${REVOKE_LOCK_CLASS}, pg_catalog.hashtext(l.name)) ` +
  `FROM pg_catalog.unnest($1::text[]) WITH ORDINALITY AS l(name, n) ORDER BY l.n`;
export const REVOKE_UNLOCK_MANY_SQL =
  `SELECT pg_catalog.pg_advisory_unlock(${REVOKE_LOCK_CLASS}, pg_catalog.hashtext(l.name)) FROM pg_catalog.unnest($1::text[]) AS l(name)`;

/**
 * Blocks every login in one transaction (one simple-query string): none of them can start a
 * session once it commits. `grantToAdmin` are the logins a CREATEROLE-only admin must first be
 * granted to end their sessions and DROP OWNED.
 */
export function blockLoginsSql(logins: string[], grantToAdmin: string[]): string {
  return ['BEGIN', ...grantToAdmin.map(grantLoginToAdminSql), ...logins.map(blockLoginSql), 'COMMIT'].join(';\n');
}

/**
 * $1 = oid[]. Signals every session of those roles at once, without waiting (the caller polls
 * SESSIONS_LEFT_SQL once for all of them). By usesysid, as terminateSql.
 */
export const TERMINATE_MANY_SQL =
  `SELECT a.usesysid::int8 AS oid, count(*) FILTER (WHERE pg_catalog.pg_terminate_backend(a.pid))::int AS terminated ` +
  `FROM pg_catalog.pg_stat_activity a WHERE a.usesysid = ANY($1::oid[]) AND a.pid <> pg_catalog.pg_backend_pid() GROUP BY a.usesysid`;

/** $1 = oid[]. Sessions of those roles still alive, per role (roles with none have no row). */
export const SESSIONS_LEFT_SQL =
  `SELECT a.usesysid::int8 AS oid, count(*)::int AS remaining FROM pg_catalog.pg_stat_activity a ` +
  `WHERE a.usesysid = ANY($1::oid[]) AND a.pid <> pg_catalog.pg_backend_pid() GROUP BY a.usesysid`;

/** $1 = oid[]. For each database holding objects or grants of those roles, which roles. */
export const OWNED_DATABASES_MANY_SQL =
  `SELECT d.datname, pg_catalog.array_agg(DISTINCT s.refobjid::int8) AS oids FROM pg_catalog.pg_shdepend s ` +
  `JOIN pg_catalog.pg_database d ON d.oid = s.dbid ` +
  `WHERE s.refclassid = 'pg_catalog.pg_authid'::regclass AND s.refobjid = ANY($1::oid[]) GROUP BY d.datname ORDER BY 1`;

/** dropOwnedSql for several logins in one statement each (REASSIGN/DROP OWNED take a list of roles). */
export function dropOwnedManySql(logins: string[], owner?: string): string {
  const list = logins.map(ident).join(', ');
  return [
    `SELECT pg_catalog.pg_advisory_xact_lock(${MINT_LOCK_KEY})`,
    ...(owner ? [`REASSIGN OWNED BY ${list} TO ${ident(owner)}`] : []),
    revokeSequenceGrantsSql(logins),
    `DROP OWNED BY ${list}`,
  ].join(';\n');
}

export const dropRolesSql = (logins: string[]) => `DROP ROLE IF EXISTS ${logins.map(ident).join(', ')}`;
