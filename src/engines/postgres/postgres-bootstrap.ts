import type { Client } from 'pg';
import type { DatabaseConfig, Grant, QualifiedName } from '../../policy/types.js';
import type { BootstrapReport, BootstrapStep, UnneededGrant } from '../bootstrap.js';
import { runtimeError } from '../../core/errors.js';
import { escapeLiteral, ident, qualified } from './postgres-quote.js';
import { CRON_LAUNCHER_DATABASE, MARKER_ROLE } from './postgres-sql.js';
import { isJitGroup } from './postgres-group.js';
import { scramVerifier } from './postgres-scram.js';

/**
 * The dedicated admin a policy database needs on PostgreSQL, and nothing more (README, "The
 * admin credential"): LOGIN CREATEROLE; GRANT OPTION on exactly the tables, sequences and schemas
 * the roles grant; ADMIN OPTION on the member_of groups; the owner as a plain membership; on 16+
 * pg_use_reserved_connections and ADMIN OPTION on a marker another role created; where pg_cron
 * runs, what its backstop needs (pg_read_all_stats among it, to see pg_cron's launcher). Not
 * pg_signal_backend: jit makes its admin a member of each login it mints, which lets it end,
 * see and drop that login's sessions and objects, and nobody else's.
 */

/** A step with the query telling whether the admin holds it already: one row, boolean `held`. */
interface PgStep extends BootstrapStep {
  held: { sql: string; params: unknown[] };
  /** Run in this database instead of the policy's (pg_cron's grants, in pg_cron's database). */
  database?: string;
}

/** What the server says before the plan is made (apply); absent when printing for any server. */
export interface PgFacts {
  version: number;
  adminExists: boolean;
  /** PUBLIC may connect to the policy database (PostgreSQL's default). */
  publicConnect: boolean;
  /** Schemas PUBLIC may use (`public` on PostgreSQL 15+ by default). */
  publicUsage: Set<string>;
  /** The marker exists and the admin has no ADMIN OPTION on it. */
  markerNeedsAdmin: boolean;
  /** The database pg_cron's launcher runs in (its jobs live there), when it runs. */
  cronDatabase?: string;
}

const V16 = 160000;

/** $1 admin, $2/$3 the objects' schemas and names (checked to exist first), $4 the privileges. */
const tableHeld = (fn: 'has_table_privilege' | 'has_sequence_privilege') =>
  `SELECT bool_and(pg_catalog.${fn}($1::text, pg_catalog.to_regclass(pg_catalog.format('%I.%I', o.s, o.n)), p || ' WITH GRANT OPTION')) AS held ` +
  `FROM ROWS FROM (pg_catalog.unnest($2::text[]), pg_catalog.unnest($3::text[])) AS o(s, n), pg_catalog.unnest($4::text[]) AS p`;

const roleHeld = (option: 'MEMBER' | 'MEMBER WITH ADMIN OPTION') =>
  `SELECT pg_catalog.pg_has_role($1::text, r.oid, ${escapeLiteral(option)}) AS held FROM pg_catalog.pg_roles r WHERE r.rolname = $2`;

function privs(g: Grant): string {
  return [...new Set(g.privileges.map((p) => p.toUpperCase()))].join(', ');
}

/** Every schema the roles' grants reach, in policy order. */
function schemasOf(db: DatabaseConfig): string[] {
  const out = new Set<string>();
  for (const role of Object.values(db.roles)) {
    for (const g of role.grants) {
      for (const t of [...(g.tables ?? []), ...(g.sequences ?? [])]) out.add(t.schema);
      if (g.schema) out.add(g.schema);
    }
  }
  return [...out];
}

/**
 * The steps for db. Without facts: for any server, what depends on it (a version, PUBLIC's
 * CONNECT or USAGE) marked conditional; with them, exactly what that server needs.
 */
export function bootstrapSteps(db: DatabaseConfig, facts?: PgFacts, verifier?: string): PgStep[] {
  const name = db.admin.user;
  const a = ident(name);
  const steps: PgStep[] = [];
  const v16 = facts ? facts.version >= V16 : undefined;
  if (!facts?.adminExists) {
    steps.push({
      sql: `CREATE ROLE ${a} LOGIN CREATEROLE${verifier ? ` PASSWORD ${escapeLiteral(verifier)}` : ''}`,
      why: verifier ? 'the admin (its password from the policy\'s source)' : `the admin; then set its password (psql: \\password ${a}) and store it: jit admin set ${db.name}`,
      held: { sql: 'SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1::text) AS held', params: [name] },
    });
  } else {
    steps.push({
      sql: `ALTER ROLE ${a} LOGIN CREATEROLE INHERIT`,
      why: 'the admin logs in, creates roles and inherits from the logins it mints',
      held: {
        sql: 'SELECT (rolcanlogin AND (rolcreaterole OR rolsuper) AND rolinherit) AS held FROM pg_catalog.pg_roles WHERE rolname = $1::text',
        params: [name],
      },
    });
  }
  const connect: PgStep = {
    sql: `GRANT CONNECT ON DATABASE ${ident(db.database)} TO ${a} WITH GRANT OPTION`,
    why: `logins may connect to ${db.database}`,
    held: { sql: "SELECT pg_catalog.has_database_privilege($1::text, $2::text, 'CONNECT WITH GRANT OPTION') AS held", params: [name, db.database] },
  };
  if (!facts) steps.push({ ...connect, conditional: `where PUBLIC may not connect to ${db.database}` });
  else if (!facts.publicConnect) steps.push(connect);
  for (const s of schemasOf(db)) {
    const usage: PgStep = {
      sql: `GRANT USAGE ON SCHEMA ${ident(s)} TO ${a} WITH GRANT OPTION`,
      why: `schema ${s}`,
      held: { sql: "SELECT pg_catalog.has_schema_privilege($1::text, $2::text, 'USAGE WITH GRANT OPTION') AS held", params: [name, s] },
    };
    if (!facts) steps.push(s === 'public' ? { ...usage, conditional: 'where PUBLIC may not use schema public' } : usage);
    else if (!facts.publicUsage.has(s)) steps.push(usage);
  }
  for (const role of Object.values(db.roles)) {
    const why = `role ${role.name}`;
    for (const g of role.grants) {
      if (g.privileges.length === 0) continue;
      const p = privs(g);
      const list = g.privileges.map((x) => x.toUpperCase());
      if (g.tables?.length) {
        steps.push({
          sql: `GRANT ${p} ON TABLE ${g.tables.map((t) => qualified(t.schema, t.name)).join(', ')} TO ${a} WITH GRANT OPTION`,
          why,
          held: { sql: tableHeld('has_table_privilege'), params: [name, g.tables.map((t) => t.schema), g.tables.map((t) => t.name), list] },
        });
      }
      if (g.sequences?.length) {
        steps.push({
          sql: `GRANT ${p} ON SEQUENCE ${g.sequences.map((t) => qualified(t.schema, t.name)).join(', ')} TO ${a} WITH GRANT OPTION`,
          why,
          held: { sql: tableHeld('has_sequence_privilege'), params: [name, g.sequences.map((t) => t.schema), g.sequences.map((t) => t.name), list] },
        });
      }
      if (g.schema) {
        steps.push({
          sql: `GRANT ${p} ON ALL TABLES IN SCHEMA ${ident(g.schema)} TO ${a} WITH GRANT OPTION`,
          why: `${why} (the tables of ${g.schema} that exist now: run again after adding tables)`,
          held: {
            sql:
              `SELECT NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace, pg_catalog.unnest($3::text[]) AS p ` +
              `WHERE n.nspname = $2 AND c.relkind IN ('r','p','v','m','f') AND NOT pg_catalog.has_table_privilege($1::text, c.oid, p || ' WITH GRANT OPTION')) AS held`,
            params: [name, g.schema, list],
          },
        });
      }
    }
    for (const group of role.memberOf) {
      const sql = `GRANT ${ident(group)} TO ${a} WITH ADMIN OPTION`;
      steps.push({
        sql: v16 ? `${sql}, INHERIT FALSE, SET FALSE` : sql,
        why: `${why}: member_of${v16 === undefined ? ' (16+ may add: , INHERIT FALSE, SET FALSE)' : ''}`,
        held: { sql: roleHeld('MEMBER WITH ADMIN OPTION'), params: [name, group] },
      });
    }
  }
  if (db.owner) {
    steps.push({
      sql: `GRANT ${ident(db.owner)} TO ${a}`,
      why: `owner: what a login created is handed to ${db.owner}`,
      held: { sql: "SELECT pg_catalog.pg_has_role($1::text, r.oid, 'USAGE') AS held FROM pg_catalog.pg_roles r WHERE r.rolname = $2", params: [name, db.owner] },
    });
  }
  const reserved: PgStep = {
    sql: `GRANT pg_use_reserved_connections TO ${a}`,
    why: 'revoke --all gets in when max_connections is full (with reserved_connections set)',
    held: { sql: roleHeld('MEMBER'), params: [name, 'pg_use_reserved_connections'] },
  };
  if (!facts) steps.push({ ...reserved, conditional: 'PostgreSQL 16+' });
  else if (v16) steps.push(reserved);
  const marker: PgStep = {
    sql: `GRANT ${ident(MARKER_ROLE)} TO ${a} WITH ADMIN OPTION, INHERIT FALSE, SET FALSE`,
    why: `the marker role ${MARKER_ROLE}, created by another role: the admin makes its logins members`,
    held: { sql: roleHeld('MEMBER WITH ADMIN OPTION'), params: [name, MARKER_ROLE] },
  };
  if (!facts) steps.push({ ...marker, conditional: `PostgreSQL 16+, where role ${MARKER_ROLE} exists already (else the first mint creates it)` });
  else if (v16 && facts.markerNeedsAdmin) steps.push(marker);
  // The pg_cron backstop (README, "The pg_cron backstop"): jobs are scheduled in pg_cron's database.
  const where = facts?.cronDatabase;
  const cron: PgStep[] = [
    {
      sql: `GRANT USAGE ON SCHEMA cron TO ${a}`,
      why: `schedule the jobs that end sessions at expiry${where ? ` (in database ${where})` : ''}`,
      held: { sql: "SELECT pg_catalog.has_schema_privilege($1::text, 'cron', 'USAGE') AS held", params: [name] },
      ...(where ? { database: where } : {}),
    },
    {
      sql: `GRANT EXECUTE ON FUNCTION cron.schedule_in_database(text, text, text, text, text, boolean) TO ${a}`,
      why: `the same${where ? ` (in database ${where})` : ''}`,
      held: {
        sql: "SELECT pg_catalog.has_function_privilege($1::text, 'cron.schedule_in_database(text, text, text, text, text, boolean)', 'EXECUTE') AS held",
        params: [name],
      },
      ...(where ? { database: where } : {}),
    },
    {
      sql: `GRANT pg_read_all_stats TO ${a}`,
      why: "see pg_cron's launcher in pg_stat_activity",
      held: { sql: roleHeld('MEMBER'), params: [name, 'pg_read_all_stats'] },
    },
  ];
  if (!facts) steps.push(...cron.map((c) => ({ ...c, conditional: "where pg_cron runs, in its database (cron.database_name, usually postgres)" })));
  else if (where) steps.push(...cron);
  return steps;
}

const FACTS_SQL =
  `SELECT pg_catalog.current_setting('server_version_num')::int AS version, pg_catalog.current_setting('server_version') AS version_text, ` +
  `EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1::text) AS admin_exists, ` +
  `pg_catalog.has_database_privilege('public', pg_catalog.current_database(), 'CONNECT') AS public_connect, ` +
  `ARRAY(SELECT n.nspname::text FROM pg_catalog.pg_namespace n WHERE n.nspname = ANY($2::text[]) AND pg_catalog.has_schema_privilege('public', n.oid, 'USAGE')) AS public_usage, ` +
  `EXISTS (SELECT 1 FROM pg_catalog.pg_roles j WHERE j.rolname = ${escapeLiteral(MARKER_ROLE)} AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles me ` +
  `WHERE me.rolname = $1::text AND pg_catalog.pg_has_role(me.oid, j.oid, 'MEMBER WITH ADMIN OPTION'))) AS marker_needs_admin, ` +
  `pg_catalog.current_database() AS database, ${CRON_LAUNCHER_DATABASE} AS cron_database`;

/** Objects the policy names that the server lacks, as sentences. */
const MISSING_SQL =
  `SELECT pg_catalog.format('%s %s.%s', o.kind, o.s, o.n) AS what FROM ROWS FROM (pg_catalog.unnest($1::text[]), pg_catalog.unnest($2::text[]), pg_catalog.unnest($3::text[])) AS o(kind, s, n) ` +
  `WHERE pg_catalog.to_regclass(pg_catalog.format('%I.%I', o.s, o.n)) IS NULL ` +
  `UNION ALL SELECT 'schema ' || s FROM pg_catalog.unnest($4::text[]) AS s WHERE pg_catalog.to_regnamespace(pg_catalog.format('%I', s)) IS NULL ` +
  `UNION ALL SELECT 'role ' || r FROM pg_catalog.unnest($5::text[]) AS r WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = r)`;

/**
 * What the admin may grant or hand out beyond the policy: GRANT OPTION on other tables and
 * sequences, ADMIN OPTION on other roles (not the marker, not the logins it minted, not the group
 * roles it built: a creator holds ADMIN OPTION on what it creates). $1 = admin.
 */
const GRANTABLE_SQL =
  `SELECT 'table' AS kind, n.nspname::text AS schema, c.relname::text AS name, a.privilege_type AS privilege, c.relkind = 'S' AS sequence ` +
  `FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace, pg_catalog.aclexplode(c.relacl) a ` +
  `WHERE a.grantee = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = $1::text) AND a.is_grantable ` +
  `UNION ALL SELECT 'role', NULL, r.rolname::text, NULL, false FROM pg_catalog.pg_auth_members m JOIN pg_catalog.pg_roles r ON r.oid = m.roleid ` +
  `WHERE m.member = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = $1::text) AND m.admin_option AND r.rolname <> ${escapeLiteral(MARKER_ROLE)} ` +
  `AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_auth_members mm JOIN pg_catalog.pg_roles j ON j.oid = mm.roleid ` +
  `WHERE mm.member = r.oid AND j.rolname = ${escapeLiteral(MARKER_ROLE)} AND NOT mm.admin_option) AND NOT ${isJitGroup('r')} ` +
  `ORDER BY 1, 2, 3, 4`;

/** The tables (schema → names, or every table of a schema) and roles the policy hands out. */
function policyObjects(db: DatabaseConfig): { tables: Map<string, Set<string>>; wholeSchemas: Map<string, Set<string>>; roles: Set<string> } {
  const tables = new Map<string, Set<string>>();
  const wholeSchemas = new Map<string, Set<string>>();
  const roles = new Set<string>([...(db.owner ? [db.owner] : [])]);
  for (const role of Object.values(db.roles)) {
    role.memberOf.forEach((g) => roles.add(g));
    for (const g of role.grants) {
      for (const t of [...(g.tables ?? []), ...(g.sequences ?? [])]) {
        const key = `${t.schema}\u0000${t.name}`;
        tables.set(key, new Set([...(tables.get(key) ?? []), ...g.privileges.map((p) => p.toUpperCase())]));
      }
      if (g.schema) wholeSchemas.set(g.schema, new Set([...(wholeSchemas.get(g.schema) ?? []), ...g.privileges.map((p) => p.toUpperCase())]));
    }
  }
  return { tables, wholeSchemas, roles };
}

async function unneededGrants(client: Client, db: DatabaseConfig): Promise<UnneededGrant[]> {
  const { tables, wholeSchemas, roles } = policyObjects(db);
  const a = ident(db.admin.user);
  const out: UnneededGrant[] = [];
  const { rows } = await client.query(GRANTABLE_SQL, [db.admin.user]);
  for (const r of rows) {
    if (r.kind === 'role') {
      if (roles.has(String(r.name))) continue;
      out.push({ what: `ADMIN OPTION on role ${r.name}`, revoke: `REVOKE ADMIN OPTION FOR ${ident(String(r.name))} FROM ${a}` });
      continue;
    }
    const p = String(r.privilege);
    const needed = tables.get(`${r.schema}\u0000${r.name}`)?.has(p) || (!r.sequence && wholeSchemas.get(String(r.schema))?.has(p));
    if (needed) continue;
    const on = `${r.sequence ? 'SEQUENCE' : 'TABLE'} ${qualified(String(r.schema), String(r.name))}`;
    out.push({ what: `${p} WITH GRANT OPTION on ${r.sequence ? 'sequence' : 'table'} ${r.schema}.${r.name}`, revoke: `REVOKE GRANT OPTION FOR ${p} ON ${on} FROM ${a} CASCADE` });
  }
  return out;
}

/** The step as it is shown: no check, and never the password's verifier. */
export function shownStep({ sql, why, conditional }: BootstrapStep): BootstrapStep {
  return { sql: sql.replace(/ PASSWORD 'SCRAM-SHA-256\$[^']*'/, ''), why, ...(conditional ? { conditional } : {}) };
}

/**
 * Bootstrap over a DBA's connection to the policy database: refuse when the policy names objects
 * the server lacks, run what the admin does not hold yet in one transaction, list the rest.
 */
export async function applyBootstrap(client: Client, db: DatabaseConfig, adminPassword: () => Promise<string>, connectTo: (database: string) => Promise<Client>): Promise<BootstrapReport> {
  const schemas = schemasOf(db);
  const objs: Array<[string, QualifiedName]> = Object.values(db.roles).flatMap((r) =>
    r.grants.flatMap((g) => [...(g.tables ?? []).map((t) => ['table', t] as [string, QualifiedName]), ...(g.sequences ?? []).map((t) => ['sequence', t] as [string, QualifiedName])]),
  );
  const roles = [...new Set([...Object.values(db.roles).flatMap((r) => r.memberOf), ...(db.owner ? [db.owner] : [])])];
  const missing = await client.query(MISSING_SQL, [objs.map(([k]) => k), objs.map(([, t]) => t.schema), objs.map(([, t]) => t.name), schemas, roles]);
  if (missing.rows.length) {
    throw runtimeError(
      `${db.database} has no ${missing.rows.map((r) => String(r.what)).join(', ')}, which the policy grants; nothing was changed`,
      `create them, or fix ${db.name}'s roles in the policy, and run the bootstrap again`,
    );
  }
  const f = (await client.query(FACTS_SQL, [db.admin.user, schemas])).rows[0];
  const facts: PgFacts = {
    version: Number(f.version),
    adminExists: f.admin_exists === true,
    publicConnect: f.public_connect === true,
    publicUsage: new Set((f.public_usage as string[]) ?? []),
    markerNeedsAdmin: f.marker_needs_admin === true,
    ...(f.cron_database ? { cronDatabase: String(f.cron_database) } : {}),
  };
  const verifier = facts.adminExists ? undefined : scramVerifier(await adminPassword());
  const steps = bootstrapSteps(db, facts, verifier);
  const others = new Map<string, Client>();
  const inDb = async (s: PgStep) => {
    if (!s.database || s.database === f.database) return client;
    if (!others.has(s.database)) others.set(s.database, await connectTo(s.database));
    return others.get(s.database)!;
  };
  const added: PgStep[] = [];
  const present: PgStep[] = [];
  try {
    for (const s of steps) {
      // A new admin holds nothing yet: only the role itself could be there.
      const held = facts.adminExists ? (await (await inDb(s)).query(s.held.sql, s.held.params)).rows[0]?.held === true : false;
      (held ? present : added).push(s);
    }
    // The policy database's steps in one transaction; pg_cron's database's after it.
    const here = added.filter((s) => !s.database || s.database === f.database);
    if (here.length) {
      await client.query('BEGIN');
      try {
        for (const s of here) await client.query(s.sql);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw err;
      }
    }
    for (const s of added.filter((x) => !here.includes(x))) await (await inDb(s)).query(s.sql);
  } finally {
    for (const c of others.values()) await c.end().catch(() => {});
  }
  return {
    server: `PostgreSQL ${String(f.version_text).split(' ')[0]}`,
    added: added.map(shownStep),
    present: present.map(shownStep),
    unneeded: await unneededGrants(client, db),
    created: !facts.adminExists,
  };
}
