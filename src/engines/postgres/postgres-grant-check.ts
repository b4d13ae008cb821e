import type { Client } from 'pg';
import type { Grant } from '../../policy/types.js';
import { ident, qualified } from './postgres-quote.js';

// Each check binds names as parameters; format('%I') quotes them on the server like the mint
// does. has_*_privilege with a list is true when ANY is held, so each privilege is asked alone.
const objectSql = (fn: string) =>
  `SELECT c.oid IS NOT NULL AS exists, ` +
  `ARRAY(SELECT p FROM pg_catalog.unnest($3::text[]) AS p WHERE c.oid IS NOT NULL ` +
  `AND NOT pg_catalog.${fn}(c.oid, p || ' WITH GRANT OPTION')) AS missing ` +
  `FROM (SELECT pg_catalog.to_regclass(pg_catalog.format('%I.%I', $1::text, $2::text)) AS oid) c`;
const TABLE_SQL = objectSql('has_table_privilege');
const SEQUENCE_SQL = objectSql('has_sequence_privilege');
const SCHEMA_SQL =
  `SELECT n.oid IS NOT NULL AS exists, ` +
  `ARRAY(SELECT c.relname::text FROM pg_catalog.pg_class c WHERE c.relnamespace = n.oid AND c.relkind IN ('r','p','v','m','f') ` +
  `AND EXISTS (SELECT 1 FROM pg_catalog.unnest($2::text[]) AS p WHERE NOT pg_catalog.has_table_privilege(c.oid, p || ' WITH GRANT OPTION')) ` +
  `ORDER BY 1) AS missing ` +
  `FROM (SELECT pg_catalog.to_regnamespace(pg_catalog.format('%I', $1::text)) AS oid) n`;
// The mint grants USAGE on a schema only when the login lacks it (PUBLIC may have it already).
const SCHEMA_USAGE_SQL =
  `SELECT pg_catalog.has_schema_privilege(n.oid, 'USAGE WITH GRANT OPTION') ` +
  `OR pg_catalog.has_schema_privilege('public', n.oid, 'USAGE') AS grantable ` +
  `FROM (SELECT pg_catalog.to_regnamespace(pg_catalog.format('%I', $1::text)) AS oid) n WHERE n.oid IS NOT NULL`;
// PostgreSQL 15: CREATEROLE may grant any role but a superuser one; from 16 it takes ADMIN OPTION.
const ROLE_SQL =
  `SELECT r.oid IS NOT NULL AS exists, pg_catalog.quote_ident(me.rolname) AS admin_ident, pg_catalog.quote_ident(r.rolname) AS role_ident, ` +
  `CASE WHEN r.oid IS NULL THEN NULL ELSE (me.rolsuper OR pg_catalog.pg_has_role(me.oid, r.oid, 'USAGE WITH ADMIN OPTION') ` +
  `OR (me.rolcreaterole AND NOT r.rolsuper AND pg_catalog.current_setting('server_version_num')::int < 160000)) END AS grantable ` +
  `FROM pg_catalog.pg_roles me LEFT JOIN pg_catalog.pg_roles r ON r.rolname = $1 WHERE me.rolname = current_user`;

/**
 * What the admin could not grant of a role's grants and member_of, as sentences: objects that do
 * not exist, privileges it holds without GRANT OPTION, group roles it may not hand out.
 */
export async function grantProblems(client: Client, grants: Grant[], memberOf: string[]): Promise<string[]> {
  const problems: string[] = [];
  // Each fix is the statement `jit admin bootstrap` would run for it.
  const me = ident(String((await client.query('SELECT current_user AS me')).rows[0].me));
  const fix = (privs: string[], on: string) => `; fix: GRANT ${privs.join(', ')} ON ${on} TO ${me} WITH GRANT OPTION`;
  for (const g of grants) {
    for (const t of g.tables ?? []) {
      const { rows } = await client.query(TABLE_SQL, [t.schema, t.name, g.privileges]);
      if (!rows[0].exists) problems.push(`table ${t.schema}.${t.name} does not exist`);
      else if (rows[0].missing.length) problems.push(`cannot grant ${rows[0].missing.join(', ')} on ${t.schema}.${t.name} (no GRANT OPTION)${fix(rows[0].missing, `TABLE ${qualified(t.schema, t.name)}`)}`);
    }
    for (const s of g.sequences ?? []) {
      const { rows } = await client.query(SEQUENCE_SQL, [s.schema, s.name, g.privileges]);
      if (!rows[0].exists) problems.push(`sequence ${s.schema}.${s.name} does not exist`);
      else if (rows[0].missing.length) problems.push(`cannot grant ${rows[0].missing.join(', ')} on sequence ${s.schema}.${s.name} (no GRANT OPTION)${fix(rows[0].missing, `SEQUENCE ${qualified(s.schema, s.name)}`)}`);
    }
    if (g.schema) {
      const { rows } = await client.query(SCHEMA_SQL, [g.schema, g.privileges]);
      const r = rows[0];
      if (!r.exists) problems.push(`schema ${g.schema} does not exist`);
      else if (r.missing.length) {
        problems.push(`cannot grant ${g.privileges.join(', ')} on ${r.missing.map((m: string) => `${g.schema}.${m}`).join(', ')} (no GRANT OPTION)${fix(g.privileges, `ALL TABLES IN SCHEMA ${ident(g.schema)}`)}`);
      }
    }
  }
  const schemas = new Set(grants.flatMap((g) => [...(g.tables ?? []), ...(g.sequences ?? [])].map((t) => t.schema).concat(g.schema ? [g.schema] : [])));
  for (const schema of schemas) {
    const { rows } = await client.query(SCHEMA_USAGE_SQL, [schema]);
    if (rows[0] && !rows[0].grantable) problems.push(`cannot grant USAGE on schema ${schema} (no GRANT OPTION)${fix(['USAGE'], `SCHEMA ${ident(schema)}`)}`);
  }
  for (const role of memberOf) {
    const { rows } = await client.query(ROLE_SQL, [role]);
    if (!rows[0]?.exists) problems.push(`group role ${role} does not exist`);
    else if (!rows[0].grantable) {
      problems.push(`cannot grant membership in ${role} (no ADMIN OPTION); fix: GRANT ${rows[0].role_ident} TO ${rows[0].admin_ident} WITH ADMIN OPTION`);
    }
  }
  return problems;
}
