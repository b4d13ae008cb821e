/**
 * The SQL of the pg_cron expiry backstop. VALID UNTIL only refuses new logins; where pg_cron runs,
 * each login also gets a one-shot job that, at the first minute after its expiry, ends its
 * sessions and drops it, even when no jit process is left. Names only through ident(), values
 * through escapeLiteral() or $n.
 *
 * pg_cron keeps its jobs in one database (cron.database_name) and runs each job's command in the
 * database it names, where its schema does not exist. So a login has two jobs:
 * - `jit:expire:<login>` runs in the policy's database (DROP OWNED acts on the current database
 *   only) and revokes the login once it is past its VALID UNTIL;
 * - `jit:cleanup:<login>` runs a minute later in pg_cron's database and unschedules both once the
 *   login is gone (or is no jit login).
 * Schedules are cron lines with a minute, hour, day and month: a one-shot that would fire again a
 * year later, which both jobs survive unharmed (they check the login first). pg_cron before 1.5
 * has no '[1-59] seconds' form, and minute lines mean the same on every version.
 */
import { CRON_LAUNCHER_DATABASE, dollarQuote, isMinted, MINT_LOCK_KEY, OWNER_FORBIDDEN_ROLES, REVOKE_LOCK_CLASS, revokeSequenceGrantsBlock } from './postgres-sql.js';
import { escapeLiteral, ident } from './postgres-quote.js';

export const EXPIRE_JOB_PREFIX = 'jit:expire:';
export const CLEANUP_JOB_PREFIX = 'jit:cleanup:';

/** pg_cron's cron.job.jobname is a `name`: longer names are cut to 63 bytes, silently. */
const NAME_BYTES = 63;

/**
 * The job's name for the login that the SQL expression `login` (text) yields: `<prefix><login>`,
 * or `<prefix>~<md5 of login>` where that would be cut (a requester long enough to fill the
 * login name). Computed only on the server, so scheduling, unscheduling and the sweep of stale
 * jobs can never disagree.
 */
export function jobNameSql(prefix: string, login: string): string {
  const p = escapeLiteral(prefix);
  return (
    `(CASE WHEN pg_catalog.octet_length(${p} || ${login}) <= ${NAME_BYTES} THEN ${p} || ${login} ` +
    `ELSE ${p} || '~' || pg_catalog.md5(${login}) END)`
  );
}

/** The cron line for the minute that the timestamptz expression `at` falls in, in pg_cron's time zone (GMT before 1.6). */
function cronLineSql(at: string): string {
  return `(pg_catalog.to_char((${at}) AT TIME ZONE z.tz, 'FMMI FMHH24 FMDD FMMM') || ' *')`;
}

/**
 * The owner a login's objects may be handed to, as revoke checks it (postgres-owner.ts): an
 * ordinary role. Anything else and the job leaves the login blocked, for `jit reap` to report.
 */
function ownerSafeSql(owner: string): string {
  const forbidden = OWNER_FORBIDDEN_ROLES.map(escapeLiteral).join(', ');
  return (
    `EXISTS (SELECT 1 FROM pg_catalog.pg_roles o WHERE o.rolname = ${escapeLiteral(owner)} ` +
    `AND NOT (o.rolsuper OR o.rolcreaterole OR o.rolbypassrls OR o.rolreplication OR o.rolname = current_user ` +
    `OR pg_catalog.starts_with(o.rolname, 'jit_') OR EXISTS (SELECT 1 FROM pg_catalog.pg_roles f WHERE f.rolname IN (${forbidden}) ` +
    `AND pg_catalog.pg_has_role(o.oid, f.oid, 'USAGE'))))`
  );
}

/**
 * The command of `jit:expire:<login>`, run by pg_cron in the policy's database as the admin that
 * scheduled it. It acts only on a jit login (isMinted: the `jit_` name, the plain marker
 * membership, no admin attributes) that is past its VALID UNTIL by the server's clock; anything
 * else is left alone, so a late, early or repeated run is harmless. Under the revoke lock jit's
 * own revocations take (they then find the role gone): block, end every session, and unless one
 * survives, hand over or drop what it owns in this database and drop it. A step that fails (it
 * owns objects in another database: 2BP01) leaves it blocked with its sessions ended, which
 * `jit reap` finishes. One DO block: one transaction.
 */
export function expireJobSql(login: string, owner?: string): string {
  const l = escapeLiteral(login);
  const who = ident(login);
  const others = 'a.usesysid = r AND a.pid <> pg_catalog.pg_backend_pid()';
  const body = [
    'DECLARE r oid; BEGIN',
    // pg_cron gives each job a worker or connection of its own: never hold one forever.
    "PERFORM pg_catalog.set_config('lock_timeout', '60s', true);",
    `PERFORM pg_catalog.pg_advisory_xact_lock(${REVOKE_LOCK_CLASS}, pg_catalog.hashtext(${l}));`,
    `SELECT x.oid INTO r FROM pg_catalog.pg_roles x WHERE x.rolname = ${l} AND ${isMinted('x')} AND x.rolvaliduntil <= pg_catalog.now();`,
    'IF r IS NULL THEN RETURN; END IF;',
    `ALTER ROLE ${who} NOLOGIN;`,
    `PERFORM pg_catalog.pg_terminate_backend(a.pid, 5000) FROM pg_catalog.pg_stat_activity a WHERE ${others};`,
    // Dropping the role while a session survives would lose its OID, the only way to find it.
    // pg_stat_activity is read once per transaction: look again with a fresh snapshot.
    'PERFORM pg_catalog.pg_stat_clear_snapshot();',
    `IF EXISTS (SELECT 1 FROM pg_catalog.pg_stat_activity a WHERE ${others}) THEN`,
    `RAISE WARNING 'jit: % is blocked (NOLOGIN) but a session survived; jit reap finishes it', ${l}; RETURN; END IF;`,
    ...(owner
      ? [`IF NOT ${ownerSafeSql(owner)} THEN`, `RAISE WARNING 'jit: % is blocked (NOLOGIN); owner role % is not an ordinary role', ${l}, ${escapeLiteral(owner)}; RETURN; END IF;`]
      : []),
    // DROP OWNED rewrites ACLs: the lock that mints and revokes take for that (XX000 otherwise).
    `BEGIN PERFORM pg_catalog.pg_advisory_xact_lock(${MINT_LOCK_KEY});`,
    ...(owner ? [`REASSIGN OWNED BY ${who} TO ${ident(owner)};`] : []),
    `${revokeSequenceGrantsBlock([login])};`,
    `DROP OWNED BY ${who}; DROP ROLE ${who};`,
    `EXCEPTION WHEN OTHERS THEN RAISE WARNING 'jit: % is blocked (NOLOGIN) but not dropped: %', ${l}, SQLERRM; END;`,
    'END',
  ].join(' ');
  return `DO ${dollarQuote(` ${body} `)}`;
}

/** The command of `jit:cleanup:<login>`, run in pg_cron's database: both jobs go once the login is gone or is no jit login. */
export function cleanupJobSql(login: string): string {
  const l = escapeLiteral(login);
  const body =
    `BEGIN IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles x WHERE x.rolname = ${l} AND ${isMinted('x')}) THEN ` +
    `PERFORM cron.unschedule(j.jobid) FROM cron.job j WHERE j.username = current_user ` +
    `AND j.jobname::text IN (${jobNameSql(EXPIRE_JOB_PREFIX, l)}, ${jobNameSql(CLEANUP_JOB_PREFIX, l)}); END IF; END`;
  return `DO ${dollarQuote(` ${body} `)}`;
}

/**
 * Run in pg_cron's database. $1 = login, $2 = the expire command, $3 = the policy's database,
 * $4 = the cleanup command, $5 = the expiry (timestamptz). Schedules (or, by name, moves) both
 * jobs: expire at the first minute at or after the expiry, cleanup the minute after.
 */
export const SCHEDULE_SQL =
  `WITH z AS (SELECT coalesce((SELECT s.setting FROM pg_catalog.pg_settings s WHERE s.name = 'cron.timezone'), 'GMT') AS tz, ` +
  // The ceiling to the minute (timestamps have microseconds).
  `pg_catalog.date_trunc('minute', $5::timestamptz + interval '59.999999 seconds') AS m) ` +
  `SELECT cron.schedule_in_database(${jobNameSql(EXPIRE_JOB_PREFIX, '$1::text')}, ${cronLineSql('z.m')}, $2::text, $3::text) AS expire_job, ` +
  `cron.schedule_in_database(${jobNameSql(CLEANUP_JOB_PREFIX, '$1::text')}, ${cronLineSql("z.m + interval '1 minute'")}, $4::text, ` +
  `pg_catalog.current_database()::text) AS cleanup_job, ${cronLineSql('z.m')} AS schedule FROM z`;

/** Both job names of a login: `u.l` is the login, from unnest($1::text[]). */
const namesOf = (l: string) => `${jobNameSql(EXPIRE_JOB_PREFIX, l)}, ${jobNameSql(CLEANUP_JOB_PREFIX, l)}`;

/** Run in pg_cron's database. $1 = text[] of logins: their jobs, unscheduled. */
export const UNSCHEDULE_SQL =
  `SELECT j.jobname::text AS job, cron.unschedule(j.jobid) AS unscheduled FROM cron.job j WHERE j.username = current_user ` +
  `AND j.jobname::text IN (SELECT pg_catalog.unnest(ARRAY[${namesOf('u.l')}]) FROM pg_catalog.unnest($1::text[]) AS u(l))`;

/** Run in pg_cron's database: the admin's jit jobs whose login is gone (or no jit login), unscheduled. */
export const UNSCHEDULE_STALE_SQL =
  `WITH live AS (SELECT pg_catalog.unnest(ARRAY[${namesOf('r.rolname::text')}]) AS job FROM pg_catalog.pg_roles r WHERE ${isMinted('r')}) ` +
  `SELECT j.jobname::text AS job, cron.unschedule(j.jobid) AS unscheduled FROM cron.job j WHERE j.username = current_user ` +
  `AND (pg_catalog.starts_with(j.jobname::text, ${escapeLiteral(EXPIRE_JOB_PREFIX)}) OR pg_catalog.starts_with(j.jobname::text, ${escapeLiteral(CLEANUP_JOB_PREFIX)})) ` +
  `AND NOT EXISTS (SELECT 1 FROM live WHERE live.job = j.jobname::text) ORDER BY 1`;

/** Run in pg_cron's database. $1 = login: its jobs as pg_cron holds them (tests, doctor). */
export const JOBS_OF_SQL =
  `SELECT j.jobname::text AS job, j.schedule, j.database, j.command FROM cron.job j WHERE j.username = current_user ` +
  `AND j.jobname::text IN (${namesOf('$1::text')}) ORDER BY 1`;

/**
 * On the policy's database: where pg_cron's launcher runs (its database is cron.database_name,
 * which only superusers and pg_read_all_settings may read), and whether the admin could see it:
 * pg_stat_activity hides the backend_type of others' backends without pg_read_all_stats.
 */
export const CRON_LAUNCHER_SQL =
  `SELECT ${CRON_LAUNCHER_DATABASE} AS cron_database, pg_catalog.quote_ident(${CRON_LAUNCHER_DATABASE}) AS cron_database_ident, ` +
  `pg_catalog.pg_has_role(current_user, 'pg_read_all_stats', 'USAGE') AS sees_backends, pg_catalog.quote_ident(current_user::text) AS admin_ident`;

/**
 * In pg_cron's database: the extension and what the admin may do with it. Looked up through the
 * catalogs, by OID: naming cron.* objects would fail without USAGE on the schema.
 */
export const CRON_ACCESS_SQL =
  `SELECT e.extversion AS version, pg_catalog.has_schema_privilege(n.oid, 'USAGE') AS schema_usage, ` +
  `EXISTS (SELECT 1 FROM pg_catalog.pg_proc p WHERE p.pronamespace = n.oid AND p.proname = 'schedule_in_database') AS has_schedule_in_database, ` +
  `coalesce((SELECT pg_catalog.bool_or(pg_catalog.has_function_privilege(p.oid, 'EXECUTE')) FROM pg_catalog.pg_proc p ` +
  `WHERE p.pronamespace = n.oid AND p.proname = 'schedule_in_database'), false) AS can_schedule, ` +
  `coalesce((SELECT pg_catalog.bool_or(pg_catalog.has_function_privilege(p.oid, 'EXECUTE')) FROM pg_catalog.pg_proc p ` +
  `WHERE p.pronamespace = n.oid AND p.proname = 'unschedule' AND p.proargtypes = '20'::pg_catalog.oidvector), false) AS can_unschedule, ` +
  `coalesce((SELECT pg_catalog.has_table_privilege(c.oid, 'SELECT') FROM pg_catalog.pg_class c WHERE c.relnamespace = n.oid AND c.relname = 'job'), false) AS can_read_jobs, ` +
  `(SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = current_user) AS superuser, ` +
  `coalesce((SELECT s.setting FROM pg_catalog.pg_settings s WHERE s.name = 'cron.enable_superuser_jobs'), 'on') AS superuser_jobs, ` +
  `pg_catalog.quote_ident(pg_catalog.current_database()::text) AS database_ident ` +
  // The extension's own schema is where CREATE EXTENSION ran (public); its objects live in cron.
  `FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.nspname = 'cron' WHERE e.extname = 'pg_cron'`;
