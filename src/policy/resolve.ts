import { MIN_TTL_MS, formatDuration, parseDuration } from '../core/duration.js';
import { usageError } from '../core/errors.js';
import { formatQualified, parseQualifiedName, sameQualified } from './names.js';
import { profileOf } from '../engines/registry.js';
import type { DatabaseConfig, Grant, Policy, QualifiedName, RoleConfig } from './types.js';

/** What the user asked for on the command line (`DB --role R --ttl D --only T,… --reason TEXT`). */
export interface AccessRequest {
  database: string;
  role: string;
  ttl?: string;
  /** `--only`: comma-separated tables or sequences of the role (`orders` or `public.orders`). */
  only?: string;
  reason?: string;
}

/** A request checked against the policy: exactly what to mint. */
export interface ResolvedRequest {
  db: DatabaseConfig;
  role: RoleConfig;
  ttlMs: number;
  /** The role's grants, or with `--only` one grant per requested table plus the role's sequence grants. */
  grants: Grant[];
  /** The role's member_of, or empty with `--only`: a group role could reach tables outside the list. */
  memberOf: string[];
  /** True with `--only`: the grants are this request's alone, not the role's. */
  narrowed: boolean;
}

/** Check a request against the policy; every refusal is a usage error (exit 2). */
export function resolveRequest(policy: Policy, req: AccessRequest): ResolvedRequest {
  // Object.hasOwn: a database called "toString" must not find Object.prototype's.
  const dbNames = Object.keys(policy.databases);
  if (!Object.hasOwn(policy.databases, req.database)) {
    throw usageError(`database ${JSON.stringify(req.database)} is not in ${policy.file}`, `known: ${dbNames.join(', ')}`);
  }
  const db = policy.databases[req.database];
  if (!Object.hasOwn(db.roles, req.role)) {
    throw usageError(`role ${JSON.stringify(req.role)} is not in database "${db.name}" in ${policy.file}`, `known: ${Object.keys(db.roles).join(', ')}`);
  }
  const role = db.roles[req.role];
  const ttlMs = req.ttl === undefined ? role.ttlMs : requestedTtl(req.ttl, role);
  if (role.requireReason && !req.reason?.trim()) {
    throw usageError(`role "${role.name}" requires a reason`, 'pass --reason TEXT');
  }
  if (req.only === undefined) return { db, role, ttlMs, grants: role.grants, memberOf: role.memberOf, narrowed: false };
  return { db, role, ttlMs, grants: narrow(db, role, req.only), memberOf: [], narrowed: true };
}

function requestedTtl(text: string, role: RoleConfig): number {
  const ms = parseDuration(text, '--ttl');
  const shown = text.trim();
  if (ms < MIN_TTL_MS) throw usageError(`--ttl ${shown} is below the ${formatDuration(MIN_TTL_MS)} minimum`);
  if (ms > role.maxTtlMs) {
    const max = formatDuration(role.maxTtlMs);
    throw usageError(`--ttl ${shown} is above the role's max_ttl ${max}`, `ask for at most ${max}, or raise max_ttl in the policy`);
  }
  return ms;
}

/**
 * `--only`: each name must be covered by the role: a table listed or in a `schema:` grant
 * (privileges merge per table), or a sequence of a `sequences:` grant. The role's sequence
 * grants stay unless `--only` names sequences itself: which sequence feeds which table's
 * default is the server's to know, and without USAGE on `tickets_id_seq` an INSERT into
 * `tickets` fails. A sequence grant reaches no table's rows.
 */
function narrow(db: DatabaseConfig, role: RoleConfig, only: string): Grant[] {
  const profile = profileOf(db.engine);
  const defaultSchema = profile.defaultSchema(db.database);
  const parts = only.split(',').map((p) => p.trim()).filter((p) => p !== '');
  if (parts.length === 0) throw usageError('--only needs at least one table', 'e.g. --only public.orders,public.customers');
  const wanted: QualifiedName[] = [];
  for (const part of parts) {
    const c = parseQualifiedName(part, defaultSchema, 'table', profile.maxIdentifierLength);
    if (!c.ok) throw usageError(`--only: ${c.message}`, c.hint);
    if (!wanted.some((w) => sameQualified(w, c.name))) wanted.push(c.name);
  }
  const tableGrants: Grant[] = [];
  const sequenceGrants: Grant[] = [];
  for (const name of wanted) {
    const covering = role.grants.filter((g) => g.schema === name.schema || g.tables?.some((t) => sameQualified(t, name)));
    if (covering.length > 0) {
      const privs = new Set(covering.flatMap((g) => g.privileges));
      tableGrants.push({ privileges: profile.tablePrivileges.filter((p) => privs.has(p)), tables: [name] });
      continue;
    }
    const seqCovering = role.grants.filter((g) => g.sequences?.some((s) => sameQualified(s, name)));
    if (seqCovering.length === 0) {
      throw usageError(`table "${formatQualified(name)}" is not in role "${role.name}"`, coverage(role));
    }
    const privs = new Set(seqCovering.flatMap((g) => g.privileges));
    sequenceGrants.push({ privileges: (profile.sequencePrivileges ?? []).filter((p) => privs.has(p)), sequences: [name] });
  }
  const kept = sequenceGrants.length > 0 ? sequenceGrants : role.grants.filter((g) => g.sequences);
  return [...tableGrants, ...kept];
}

function coverage(role: RoleConfig): string {
  const tables = role.grants.flatMap((g) => g.tables ?? []).map(formatQualified);
  const schemas = role.grants.flatMap((g) => (g.schema ? [`every table in ${g.schema}`] : []));
  const sequences = role.grants.flatMap((g) => g.sequences ?? []).map((s) => `sequence ${formatQualified(s)}`);
  const all = [...new Set([...tables, ...schemas, ...sequences])];
  return all.length ? `role "${role.name}" covers: ${all.join(', ')}` : `role "${role.name}" grants no tables`;
}
