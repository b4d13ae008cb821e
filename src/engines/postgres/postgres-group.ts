import { createHash } from 'node:crypto';
import type { GroupSpec } from '../group-spec.js';
import { escapeLiteral, ident, MAX_IDENTIFIER_BYTES, qualified } from './postgres-quote.js';
import { dollarQuote, isMinted, MINT_LOCK_KEY, privilegeList, SEQUENCE_PRIVILEGES, TABLE_PRIVILEGES } from './postgres-sql-common.js';

/**
 * A policy role as a NOLOGIN group role on the server: the role's grants are made once, to the
 * group, and every login it mints is only made a member. No table ACL grows with the number of
 * live logins, and a mint of a role whose group is up to date takes no lock.
 */

/** Group names start with this, never with `jit_`, which stays reserved for logins (DESIGN §3). */
export const GROUP_PREFIX = 'jitgroup_';

/** A group role jit built (SQL over pg_roles alias `r`): its prefix, and the comment only a build writes. */
export const isJitGroup = (r: string) =>
  `(pg_catalog.starts_with(${r}.rolname, ${escapeLiteral(GROUP_PREFIX)}) ` +
  `AND pg_catalog.starts_with(coalesce(pg_catalog.shobj_description(${r}.oid, 'pg_authid'), ''), '{"jit_group":'))`;

/**
 * A group role someone else shaped (SQL over pg_roles alias `r`): admin attributes, or a member
 * (or holder of ADMIN OPTION) that is neither the admin minting nor a login jit minted. A role
 * planted under the group's name by another CREATEROLE role is a member of it (16+: its
 * creator's implicit ADMIN OPTION), so jit never fills it with the policy's grants.
 */
const foreignSql = (r: string) =>
  `(${r}.rolcreaterole OR ${r}.rolcreatedb OR ${r}.rolreplication OR ${r}.rolbypassrls OR EXISTS (SELECT 1 FROM pg_catalog.pg_auth_members m ` +
  `JOIN pg_catalog.pg_roles x ON x.oid = m.member WHERE m.roleid = ${r}.oid AND x.rolname <> current_user AND NOT ${isMinted('x')}))`;

/** Raised when a group must be rebuilt and the admin cannot revoke what another role granted it. */
export const GROUP_FOREIGN_GRANTS_SQLSTATE = 'JIT05';

/** Raised when the group's name is taken by a role jit did not create as a group. */
export const GROUP_CONFLICT_SQLSTATE = 'JIT06';

/** Bumped whenever what a group is built from, or how, changes: every group is rebuilt once. */
const BUILD_VERSION = 1;

export type { GroupSpec };

/** The longest prefix of `s` that fits `bytes` UTF-8 bytes without splitting a character. */
function fitBytes(s: string, bytes: number): string {
  let out = '';
  for (const ch of s) {
    if (Buffer.byteLength(out + ch, 'utf8') > bytes) break;
    out += ch;
  }
  return out;
}

/**
 * `jitgroup_<role>_<hash>`: readable for a DBA in pg_roles, and unique per policy database,
 * server database, role and admin through the hash, whatever the role's name was truncated to.
 */
export function groupName(spec: Pick<GroupSpec, 'policyDatabase' | 'database' | 'role' | 'admin'>): string {
  const hash = createHash('sha256').update(JSON.stringify([spec.policyDatabase, spec.database, spec.role, spec.admin])).digest('hex').slice(0, 10);
  const room = MAX_IDENTIFIER_BYTES - GROUP_PREFIX.length - 1 - hash.length;
  return `${GROUP_PREFIX}${fitBytes(spec.role, room)}_${hash}`;
}

/** What the group holds, normalised (privileges upper-cased, deduplicated), for the digest. */
function normalised(spec: GroupSpec): unknown {
  const privs = (p: string[]) => [...new Set(p.map((x) => x.trim().toUpperCase()))].sort();
  return {
    v: BUILD_VERSION,
    database: spec.database,
    grants: spec.grants.map((g) => ({
      privileges: privs(g.privileges),
      tables: (g.tables ?? []).map((t) => [t.schema, t.name]),
      schema: g.schema ?? null,
      sequences: (g.sequences ?? []).map((s) => [s.schema, s.name]),
    })),
    memberOf: [...spec.memberOf],
  };
}

export function groupDigest(spec: GroupSpec): string {
  return createHash('sha256').update(JSON.stringify(normalised(spec))).digest('hex').slice(0, 32);
}

/** The group's COMMENT ON ROLE: what it stands for, and the digest of what it was built with. */
export function groupComment(spec: GroupSpec): string {
  return JSON.stringify({ jit_group: { database: spec.policyDatabase, role: spec.role, digest: groupDigest(spec) } });
}

/**
 * True when the group holds everything the policy asks for right now: its comment carries the
 * policy's digest, and each privilege is still there (a table dropped and re-created, or one
 * added to a `schema:` grant's schema since the build, lacks it; so does a build that granted
 * less than asked, 01007, which fails that mint). Reads only; no lock.
 */
function upToDateSql(g: string, spec: GroupSpec): string {
  const gl = escapeLiteral(g);
  const checks = [
    `EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.rolname = ${gl} AND NOT r.rolcanlogin AND NOT r.rolsuper AND NOT ${foreignSql('r')} ` +
      `AND pg_catalog.shobj_description(r.oid, 'pg_authid') = ${escapeLiteral(groupComment(spec))})`,
    `pg_catalog.has_database_privilege(${gl}, ${escapeLiteral(spec.database)}, 'CONNECT')`,
  ];
  const schemas = new Set<string>();
  for (const grant of spec.grants) {
    if (grant.privileges.length === 0) continue;
    const tablePrivs = grant.tables?.length || grant.schema ? privilegeList(grant.privileges, TABLE_PRIVILEGES, 'tables').split(', ') : [];
    for (const t of grant.tables ?? []) {
      schemas.add(t.schema);
      for (const p of tablePrivs) checks.push(`pg_catalog.has_table_privilege(${gl}, ${escapeLiteral(qualified(t.schema, t.name))}, '${p}')`);
    }
    if (grant.schema) {
      schemas.add(grant.schema);
      // The relkinds GRANT … ON ALL TABLES IN SCHEMA covers.
      const lacking = tablePrivs.map((p) => `NOT pg_catalog.has_table_privilege(${gl}, c.oid, '${p}')`).join(' OR ');
      checks.push(
        `NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace ` +
          `WHERE n.nspname = ${escapeLiteral(grant.schema)} AND c.relkind IN ('r', 'v', 'm', 'f', 'p') AND (${lacking}))`,
      );
    }
    if (grant.sequences?.length) {
      const seqPrivs = privilegeList(grant.privileges, SEQUENCE_PRIVILEGES, 'sequences').split(', ');
      for (const s of grant.sequences) {
        schemas.add(s.schema);
        for (const p of seqPrivs) checks.push(`pg_catalog.has_sequence_privilege(${gl}, ${escapeLiteral(qualified(s.schema, s.name))}, '${p}')`);
      }
    }
  }
  for (const s of schemas) checks.push(`pg_catalog.has_schema_privilege(${gl}, ${escapeLiteral(s)}, 'USAGE')`);
  for (const m of spec.memberOf) checks.push(`pg_catalog.pg_has_role(${gl}, ${escapeLiteral(m)}, 'MEMBER')`);
  // CASE: the privilege functions fail (42704) for a group that does not exist yet.
  const [exists, ...rest] = checks;
  // Parenthesised: PL/pgSQL's IF reads its condition up to the first THEN outside parentheses.
  return `(CASE WHEN ${exists} THEN ${rest.map((c) => `(${c})`).join(' AND ')} ELSE false END)`;
}

/**
 * Everything granted to the group in the current database (tables, sequences, views, schemas,
 * the database) and its memberships, revoked. A REVOKE only removes what its grantor granted
 * (the admin, or the object's owner when the admin has the owner's privileges, a superuser
 * always), and GRANTED BY on object privileges takes only the current role: so a grant that
 * another role made (another admin built the group) raises JIT05 before anything is revoked,
 * rather than leave the group holding what the policy no longer says. Each privilege is revoked
 * by name (a REVOKE ALL on a sequence fails for an admin holding only USAGE on it, see
 * revokeSequenceGrantsBlock). Names are quoted by the server's format('%I').
 */
function revokeHeldBlock(g: string): string {
  const gl = escapeLiteral(g);
  const gid = `(SELECT oid FROM pg_catalog.pg_roles WHERE rolname = ${gl})`;
  const acl =
    `SELECT CASE WHEN c.relkind = 'S' THEN 'SEQUENCE' ELSE 'TABLE' END AS kind, pg_catalog.format('%I.%I', n.nspname, c.relname) AS obj, ` +
    `a.privilege_type AS priv, a.grantor, c.relowner AS owner ` +
    `FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace, pg_catalog.aclexplode(c.relacl) a WHERE a.grantee = ${gid} ` +
    `UNION ALL SELECT 'SCHEMA', pg_catalog.format('%I', n.nspname), a.privilege_type, a.grantor, n.nspowner ` +
    `FROM pg_catalog.pg_namespace n, pg_catalog.aclexplode(n.nspacl) a WHERE a.grantee = ${gid} ` +
    `UNION ALL SELECT 'DATABASE', pg_catalog.format('%I', d.datname), a.privilege_type, a.grantor, d.datdba ` +
    `FROM pg_catalog.pg_database d, pg_catalog.aclexplode(d.datacl) a WHERE d.datname = pg_catalog.current_database() AND a.grantee = ${gid}`;
  const mine = (grantor: string, owner: string) =>
    `(${grantor} = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = current_user) OR (${grantor} = ${owner} AND pg_catalog.pg_has_role(current_user, ${owner}, 'USAGE')))`;
  const foreign =
    `SELECT pg_catalog.quote_ident(x.rolname) AS grantor FROM (SELECT held.grantor FROM (${acl}) held WHERE NOT ${mine('held.grantor', 'held.owner')} ` +
    `UNION SELECT m.grantor FROM pg_catalog.pg_auth_members m WHERE m.member = ${gid} ` +
    `AND pg_catalog.current_setting('server_version_num')::int >= 160000 AND NOT pg_catalog.pg_has_role(current_user, m.grantor, 'USAGE')) w ` +
    `JOIN pg_catalog.pg_roles x ON x.oid = w.grantor LIMIT 1`;
  return (
    `FOR h IN ${foreign} LOOP RAISE EXCEPTION 'role % must be rebuilt to the policy, but holds grants made by %, which % cannot revoke', ${gl}, h.grantor, current_user ` +
    `USING ERRCODE = '${GROUP_FOREIGN_GRANTS_SQLSTATE}'; END LOOP; ` +
    `FOR h IN ${acl} LOOP EXECUTE pg_catalog.format('REVOKE %s ON %s %s FROM %I', h.priv, h.kind, h.obj, ${gl}); END LOOP; ` +
    // 16+ keeps a membership per grantor; 15 one per pair, and takes GRANTED BY only as the current role.
    `FOR h IN SELECT r.rolname, x.rolname AS grantor FROM pg_catalog.pg_auth_members m JOIN pg_catalog.pg_roles r ON r.oid = m.roleid ` +
    `JOIN pg_catalog.pg_roles x ON x.oid = m.grantor WHERE m.member = ${gid} LOOP ` +
    `IF pg_catalog.current_setting('server_version_num')::int >= 160000 THEN ` +
    `EXECUTE pg_catalog.format('REVOKE %I FROM %I GRANTED BY %I', h.rolname, ${gl}, h.grantor); ` +
    `ELSE EXECUTE pg_catalog.format('REVOKE %I FROM %I', h.rolname, ${gl}); END IF; END LOOP;`
  );
}

/** The policy's grants to the group, as PL/pgSQL statements: access, objects, then groups. */
function grantBlock(g: string, spec: GroupSpec): string {
  const [gl, to] = [escapeLiteral(g), ident(g)];
  const schemas = new Set<string>();
  const body: string[] = [];
  for (const grant of spec.grants) {
    if (grant.privileges.length === 0) continue;
    if (grant.tables?.length) {
      grant.tables.forEach((t) => schemas.add(t.schema));
      const list = grant.tables.map((t) => qualified(t.schema, t.name)).join(', ');
      body.push(`GRANT ${privilegeList(grant.privileges, TABLE_PRIVILEGES, 'tables')} ON TABLE ${list} TO ${to};`);
    }
    if (grant.schema) {
      schemas.add(grant.schema);
      body.push(`GRANT ${privilegeList(grant.privileges, TABLE_PRIVILEGES, 'tables')} ON ALL TABLES IN SCHEMA ${ident(grant.schema)} TO ${to};`);
    }
    if (grant.sequences?.length) {
      grant.sequences.forEach((s) => schemas.add(s.schema));
      const list = grant.sequences.map((s) => qualified(s.schema, s.name)).join(', ');
      body.push(`GRANT ${privilegeList(grant.privileges, SEQUENCE_PRIVILEGES, 'sequences')} ON SEQUENCE ${list} TO ${to};`);
    }
  }
  // Only where the group lacks them (e.g. through PUBLIC): see accessSql.
  const access = [
    `IF NOT pg_catalog.has_database_privilege(${gl}, ${escapeLiteral(spec.database)}, 'CONNECT') THEN GRANT CONNECT ON DATABASE ${ident(spec.database)} TO ${to}; END IF;`,
    ...[...schemas].map((s) => `IF NOT pg_catalog.has_schema_privilege(${gl}, ${escapeLiteral(s)}, 'USAGE') THEN GRANT USAGE ON SCHEMA ${ident(s)} TO ${to}; END IF;`),
  ];
  return [...access, ...body, ...spec.memberOf.map((m) => `GRANT ${ident(m)} TO ${to};`)].join(' ');
}

/**
 * Makes the group hold exactly the policy's grants, in the mint's transaction. The check runs
 * without a lock; only a missing or outdated group takes the mint lock (concurrent GRANTs on one
 * table fail with XX000 "tuple concurrently updated"), checks again (another mint may have just
 * built it), then revokes what the group holds and grants what the policy says, in one go: live
 * logins never see half a group. INHERIT: the member_of groups reach logins only through it.
 * A concurrent CREATE ROLE can still lose on pg_authid's unique index: 42710 and 23505 are
 * swallowed, as for the marker.
 */
export function ensureGroupSql(spec: GroupSpec): string {
  const g = groupName(spec);
  const [gl, gi] = [escapeLiteral(g), ident(g)];
  const upToDate = upToDateSql(g, spec);
  const conflict = `EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.rolname = ${gl} AND (r.rolcanlogin OR r.rolsuper OR NOT ${isJitGroup('r')} OR ${foreignSql('r')}))`;
  const body =
    `DECLARE h record; BEGIN IF ${upToDate} THEN RETURN; END IF; ` +
    `PERFORM pg_catalog.pg_advisory_xact_lock(${MINT_LOCK_KEY}); ` +
    `IF ${upToDate} THEN RETURN; END IF; ` +
    `IF ${conflict} THEN RAISE EXCEPTION 'role % exists and was not created by jit as a group role', ${gl} USING ERRCODE = '${GROUP_CONFLICT_SQLSTATE}'; END IF; ` +
    `IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = ${gl}) THEN ` +
    `BEGIN CREATE ROLE ${gi} NOLOGIN INHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS; ` +
    `EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END; END IF; ` +
    `${revokeHeldBlock(g)} ${grantBlock(g, spec)} ` +
    `COMMENT ON ROLE ${gi} IS ${escapeLiteral(groupComment(spec))}; END`;
  return `DO ${dollarQuote(` ${body} `)}`;
}

/**
 * The login's membership in its group. 16+: INHERIT TRUE (the grants reach it), SET FALSE (it
 * cannot SET ROLE to the group and create objects the group would own after the login is gone).
 * 15 has no such options.
 */
export function groupMembershipSql(group: string, login: string): string {
  const grant = `GRANT ${ident(group)} TO ${ident(login)}`;
  const body =
    `BEGIN IF pg_catalog.current_setting('server_version_num')::int >= 160000 THEN ` +
    `EXECUTE ${escapeLiteral(`${grant} WITH INHERIT TRUE, SET FALSE`)}; ELSE EXECUTE ${escapeLiteral(grant)}; END IF; END`;
  return `DO ${dollarQuote(body)}`;
}
