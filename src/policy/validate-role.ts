import { MAX_TTL_MS, MIN_TTL_MS, formatDuration, tryParseDuration } from '../core/duration.js';
import { KEY_NAME, KEY_NAME_RULE, parseQualifiedName, parseSchemaName, type NameResult } from './names.js';
import { checkPrivilege, checkRoleName, type GrantKind } from './privileges.js';
import type { Entry, PolicyReader, Spot } from './yaml-reader.js';
import type { Grant, QualifiedName, RoleConfig } from './types.js';
import type { EngineProfile } from '../engines/profile.js';
import { LIMIT_KEYS, validateLimits } from './validate-limits.js';

/** What a role's validation needs to know about its database. */
export interface RoleContext {
  profile: EngineProfile;
  /** The policy's `database:` (on MySQL, the schema of a bare table name). */
  database: string;
  adminUser: string;
}

const ROLE_KEYS = ['ttl', 'max_ttl', 'require_reason', 'connection_limit', 'grants', 'member_of', ...Object.keys(LIMIT_KEYS)];
const GRANT_KEYS = ['privileges', 'tables', 'schema', 'sequences'];
const TARGETS: readonly GrantKind[] = ['tables', 'schema', 'sequences'];
const DEFAULT_TTL_MS = 15 * 60_000;
const DEFAULT_MAX_TTL_MS = 60 * 60_000;
const DEFAULT_CONNECTION_LIMIT = 5;
/** Postgres takes any int4 as CONNECTION LIMIT; no temporary login needs more than this. */
export const MAX_CONNECTION_LIMIT = 10_000;
/** Input bounds: a policy is written by people, and every name ends up in one mint transaction. */
export const MAX_NAMES_PER_GRANT = 1_000;
export const MAX_GRANTS_PER_ROLE = 100;
export const MAX_MEMBER_OF = 100;

export function validateRole(r: PolicyReader, e: Entry, parent: Spot, ctx: RoleContext): RoleConfig {
  if (!KEY_NAME.test(e.name)) r.fail({ ...parent, at: e.keyAt }, `${JSON.stringify(e.name)} is not a role name`, `use ${KEY_NAME_RULE}`);
  const s = e.spot;
  const f = r.fields(s, ROLE_KEYS);
  const maxSpot = f.get('max_ttl');
  const maxTtlMs = maxSpot ? duration(r, maxSpot, 'max_ttl') : DEFAULT_MAX_TTL_MS;
  const ttlSpot = f.get('ttl');
  // Without an explicit ttl, a short max_ttl lowers the default rather than making the role invalid.
  const ttlMs = ttlSpot ? duration(r, ttlSpot, 'ttl') : Math.min(DEFAULT_TTL_MS, maxTtlMs);
  if (ttlSpot && ttlMs > maxTtlMs) {
    r.fail(ttlSpot, `ttl ${formatDuration(ttlMs)} is above max_ttl ${formatDuration(maxTtlMs)}`, 'lower ttl or raise max_ttl');
  }
  const requireReason = f.has('require_reason') ? bool(r, f.get('require_reason')!) : false;
  const connections = f.has('connection_limit') ? connectionLimit(r, f.get('connection_limit')!) : DEFAULT_CONNECTION_LIMIT;
  const grants = f.has('grants') ? bounded(r, f.get('grants')!, true, MAX_GRANTS_PER_ROLE, 'grants').map((g) => grant(r, g, ctx)) : [];
  const memberOf = f.has('member_of') ? memberList(r, f.get('member_of')!, ctx) : [];
  const limits = validateLimits(r, f, ctx.profile, maxTtlMs);
  if (grants.length === 0 && memberOf.length === 0) {
    r.fail({ ...s, at: e.keyAt }, `role "${e.name}" grants nothing`, 'add grants: or member_of:');
  }
  return {
    name: e.name,
    ttlMs,
    maxTtlMs,
    requireReason,
    connectionLimit: connections,
    grants,
    memberOf,
    limits,
  };
}

function duration(r: PolicyReader, s: Spot, what: string): number {
  const v = r.scalar(s);
  const ms = typeof v === 'string' ? tryParseDuration(v) : null;
  if (ms === null) r.fail(s, `${JSON.stringify(v ?? '')} is not a duration`, 'use a duration such as 30s, 15m, 2h or 1h30m');
  if (ms < MIN_TTL_MS) r.fail(s, `${what} ${formatDuration(ms)} is below the ${formatDuration(MIN_TTL_MS)} minimum`);
  if (ms > MAX_TTL_MS) r.fail(s, `${what} ${JSON.stringify(v)} is above the ${formatDuration(MAX_TTL_MS)} maximum`, 'a jit login is temporary; use at most 30d');
  return ms;
}

function bool(r: PolicyReader, s: Spot): boolean {
  const v = r.scalar(s);
  if (typeof v !== 'boolean') r.fail(s, 'must be true or false');
  return v;
}

function connectionLimit(r: PolicyReader, s: Spot): number {
  const v = r.scalar(s);
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1 || v > MAX_CONNECTION_LIMIT) {
    r.fail(s, `must be an integer from 1 to ${MAX_CONNECTION_LIMIT}`);
  }
  return v;
}

function memberList(r: PolicyReader, s: Spot, ctx: RoleContext): string[] {
  const out: string[] = [];
  for (const item of bounded(r, s, false, MAX_MEMBER_OF, 'roles')) {
    const c = checkRoleName(r.string(item, 'a role name'), ctx.adminUser, ctx.profile);
    if (!c.ok) r.fail(item, c.message, c.hint);
    if (!out.includes(c.value)) out.push(c.value);
  }
  return out;
}

function grant(r: PolicyReader, s: Spot, ctx: RoleContext): Grant {
  const f = r.fields(s, GRANT_KEYS);
  const targets = TARGETS.filter((t) => f.has(t));
  if (targets.length === 0) r.fail(s, 'a grant needs one of tables, schema or sequences', 'say what the privileges apply to');
  if (targets.length > 1) r.fail(f.get(targets[1])!, `use only one of tables, schema or sequences per grant`, 'split it into two grants');
  const kind = targets[0];
  if (kind === 'sequences' && !ctx.profile.capabilities.sequences) {
    r.fail(f.get(kind)!, `${ctx.profile.label} has no sequences to grant on`, 'use a tables: or schema: grant');
  }
  const privSpot = f.get('privileges') ?? r.missing(s, 'privileges', 'e.g. privileges: [SELECT]');
  const privileges: string[] = [];
  const privItems = r.items(privSpot, false);
  if (privItems.length === 0) r.fail(privSpot, 'must list at least one privilege');
  for (const item of privItems) {
    const c = checkPrivilege(r.string(item, 'a privilege such as SELECT'), kind, ctx.profile);
    if (!c.ok) r.fail(item, c.message, c.hint);
    if (!privileges.includes(c.value)) privileges.push(c.value);
  }
  const target = f.get(kind)!;
  if (kind === 'schema') {
    const c = parseSchemaName(r.string(target, 'a schema name'), ctx.profile.maxIdentifierLength);
    if (!c.ok) r.fail(target, c.message, c.hint);
    if (ctx.profile.systemSchema(c.schema)) r.fail(target, refuseSystem(c.schema), SYSTEM_HINT);
    return { privileges, schema: c.schema };
  }
  const { profile } = ctx;
  const defaultSchema = profile.defaultSchema(ctx.database);
  const what = kind === 'tables' ? 'table' : 'sequence';
  const names = nameList(r, target, (t) => systemCheck(parseQualifiedName(t, defaultSchema, what, profile.maxIdentifierLength), profile), what);
  return kind === 'tables' ? { privileges, tables: names } : { privileges, sequences: names };
}

function nameList(r: PolicyReader, s: Spot, parse: (t: string) => NameResult, what: string): QualifiedName[] {
  const items = bounded(r, s, false, MAX_NAMES_PER_GRANT, `${what}s`);
  if (items.length === 0) r.fail(s, `must list at least one ${what}`);
  const out: QualifiedName[] = [];
  // A set, not out.some(): duplicate checks by scanning made validation quadratic in the list length.
  const seen = new Set<string>();
  for (const item of items) {
    const c = parse(r.string(item, `a ${what} name`));
    if (!c.ok) r.fail(item, c.message, c.hint);
    const key = `${c.name.schema}.${c.name.name}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push(c.name);
    }
  }
  return out;
}

const SYSTEM_HINT = 'grant on the application\'s own schemas; the catalog is not for temporary logins';

function refuseSystem(schema: string): string {
  return `schema ${JSON.stringify(schema)} belongs to the server itself, and a grant there escalates`;
}

function systemCheck(c: NameResult, profile: EngineProfile): NameResult {
  if (c.ok && profile.systemSchema(c.name.schema)) return { ok: false, message: refuseSystem(c.name.schema), hint: SYSTEM_HINT };
  return c;
}

function bounded(r: PolicyReader, s: Spot, indexed: boolean, max: number, what: string): Spot[] {
  const items = r.items(s, indexed);
  if (items.length > max) r.fail(s, `lists ${items.length} ${what}; at most ${max} are accepted`, 'split the list across several roles');
  return items;
}
