import type { Deps } from '../cli/deps.js';
import type { Engine } from '../engines/engine.js';
import type { Lease, LeaseOwner } from '../leases/lease.js';
import { targetFromConfig } from '../engines/engine.js';
import { markerOf } from '../leases/lease.js';
import { leaseFields } from '../leases/audit-log.js';
import { resolveRequest } from '../policy/resolve.js';
import { makeLoginName } from '../core/names.js';
import { generateLeaseId, generatePassword } from '../core/random.js';
import { registerSecret, redact } from '../core/redact.js';
import { formatDuration } from '../core/duration.js';
import { adminSecret, openAdmin } from './admin-access.js';
import { chooseTarget } from './choose.js';
import { handToReaper } from '../reaper/reaper-client.js';

export interface MintOptions {
  database?: string;
  role?: string;
  ttl?: string;
  reason?: string;
  only?: string;
  /** The command asking: recorded in the lease and the audit trail. */
  command: 'uri' | 'env' | 'exec' | 'connect';
  /** The process whose exit ends the lease (connect/exec). */
  owner?: LeaseOwner;
  /** Checked after validation and before anything touches a server (e.g. the client binary exists). */
  preflight?: (engine: Engine) => Promise<void>;
}

export interface Minted {
  lease: Lease;
  password: string;
  uri: string;
  engine: Engine;
  /** The client's own variables (PGHOST…) without DATABASE_URL. */
  clientEnv: Record<string, string>;
}

/**
 * validate → load admin secret → intent record → create login (one transaction) → lease
 * (local file + server marker) → reaper → hand out. Any failure after the intent record
 * leaves something `jit reap` and the reaper clean up.
 */
export async function mintLease(opts: MintOptions, deps: Deps): Promise<Minted> {
  const policy = await deps.policy();
  const chosen = await chooseTarget(policy, opts, deps);
  const resolved = resolveRequest(policy, { ...chosen, ttl: opts.ttl, only: opts.only });
  const { db, role } = resolved;
  const engine = await deps.engine(db.engine);
  await opts.preflight?.(engine);

  const target = targetFromConfig(db);
  const ref = { database: db.name, target, adminSource: db.admin.password };
  const secret = await adminSecret(ref, deps);

  const now = deps.now();
  const password = generatePassword();
  registerSecret(password);
  const lease: Lease = {
    id: generateLeaseId(),
    database: db.name,
    role: role.name,
    user: makeLoginName(deps.requester.user, engine.capabilities.maxLoginLength),
    target,
    adminSource: db.admin.password,
    requester: deps.requester.user,
    requesterHost: deps.requester.host,
    ...(chosen.reason?.trim() ? { reason: chosen.reason.trim() } : {}),
    createdAt: new Date(now).toISOString(),
    expiresAt: new Date(now + resolved.ttlMs).toISOString(),
    maxExpiresAt: new Date(now + role.maxTtlMs).toISOString(),
    clockSkewMs: 0,
    state: 'intent',
    command: opts.command,
    ...(opts.owner ? { owner: opts.owner } : {}),
  };
  await deps.leases.save(lease);

  const audit = { ...leaseFields(lease), ttl: formatDuration(resolved.ttlMs), command: opts.command };

  const opened = await openAdmin(ref, deps, secret).catch(async (err) => {
    await deps.leases.remove(lease.id);
    await deps.audit.append({ ...audit, event: 'mint-failed', error: redact(String(err?.message ?? err)) });
    throw err;
  });
  try {
    const { serverNow } = await opened.session.mint({
      login: lease.user,
      password,
      expiresAt: new Date(lease.expiresAt),
      grants: resolved.grants,
      memberOf: resolved.memberOf,
      connectionLimit: role.connectionLimit,
      marker: markerOf(lease),
    });
    lease.clockSkewMs = serverNow.getTime() - deps.now();
    lease.state = 'active';
  } catch (err) {
    // The transaction rolled back, but a connection lost around COMMIT leaves the outcome
    // unknown: drop the login if it exists before giving up.
    await opened.session.revoke(lease.user).then(
      () => deps.leases.remove(lease.id),
      () => {},
    );
    await deps.audit.append({ ...audit, event: 'mint-failed', error: redact(String((err as Error)?.message ?? err)) });
    throw err;
  } finally {
    await opened.session.close().catch(() => {});
  }
  await deps.leases.save(lease);
  await deps.audit.append({ ...audit, event: 'mint' });
  await handToReaper(deps, lease, secret);

  return {
    lease,
    password,
    uri: engine.buildUri(target, lease.user, password),
    engine,
    clientEnv: engine.clientEnv(target, lease.user, password),
  };
}
