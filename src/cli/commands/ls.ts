import type { Deps } from '../deps.js';
import type { DatabaseConfig, Grant, QualifiedName, RoleConfig } from '../../policy/types.js';
import { formatDuration } from '../../core/duration.js';
import { selectDatabases } from '../../lifecycle/server-logins.js';
import { notice, printData, printJson, table } from '../output.js';

const qualified = (n: QualifiedName) => `${n.schema}.${n.name}`;

/** `SELECT, UPDATE on public.tickets` / `SELECT on schema reporting`, as a person reads a grant. */
export function describeGrant(g: Grant): string {
  const on = g.tables ? g.tables.map(qualified).join(', ') : g.schema !== undefined ? `schema ${g.schema}` : `sequences ${(g.sequences ?? []).map(qualified).join(', ')}`;
  return `${g.privileges.join(', ')} on ${on}`;
}

/** What a role hands out: its grants, then the group roles its logins join. */
function describeRole(r: RoleConfig): string {
  const parts = r.grants.map(describeGrant);
  if (r.memberOf.length) parts.push(`member of ${r.memberOf.join(', ')}`);
  return parts.length ? parts.join('; ') : '(no grants)';
}

const endpoint = (db: DatabaseConfig) => `${db.host}:${db.port}/${db.database}`;

/** The `--json` shape: the policy as a script needs it, durations both readable and in seconds. */
export function databaseJson(db: DatabaseConfig): Record<string, unknown> {
  return {
    name: db.name,
    engine: db.engine,
    host: db.host,
    port: db.port,
    database: db.database,
    tls: db.tls,
    roles: Object.values(db.roles).map((r) => ({
      name: r.name,
      ttl: formatDuration(r.ttlMs),
      max_ttl: formatDuration(r.maxTtlMs),
      ttl_seconds: Math.round(r.ttlMs / 1000),
      max_ttl_seconds: Math.round(r.maxTtlMs / 1000),
      require_reason: r.requireReason,
      grants: r.grants.map((g) => ({
        privileges: g.privileges,
        ...(g.tables ? { tables: g.tables.map(qualified) } : {}),
        ...(g.schema !== undefined ? { schema: g.schema } : {}),
        ...(g.sequences ? { sequences: g.sequences.map(qualified) } : {}),
      })),
      member_of: r.memberOf,
    })),
  };
}

/** One row per role; the database's columns repeat so that `jit ls | grep prod-db` keeps them. */
export function databaseRows(dbs: DatabaseConfig[]): string[][] {
  const rows = [['DATABASE', 'ENGINE', 'HOST', 'ROLE', 'TTL', 'MAX TTL', 'REASON', 'GRANTS']];
  for (const db of dbs) {
    const roles = Object.values(db.roles);
    if (roles.length === 0) rows.push([db.name, db.engine, endpoint(db), '-', '', '', '', '(no roles)']);
    for (const r of roles) {
      rows.push([db.name, db.engine, endpoint(db), r.name, formatDuration(r.ttlMs), formatDuration(r.maxTtlMs), r.requireReason ? 'required' : '-', describeRole(r)]);
    }
  }
  return rows;
}

/** `jit ls [DB]` (alias `databases`): what the policy offers, read from the policy alone. */
export async function run([database]: [string | undefined], _flags: unknown, deps: Deps): Promise<number> {
  const policy = await deps.policy();
  const dbs = selectDatabases(policy, database);
  if (deps.io.json) {
    printJson(deps.io, dbs.map(databaseJson));
    return 0;
  }
  if (dbs.length === 0) {
    notice(deps.io, `no databases in ${policy.file}`);
    return 0;
  }
  // table() escapes every cell: names, hosts and table names are the policy author's text.
  printData(deps.io, table(databaseRows(dbs)).trimEnd());
  return 0;
}
