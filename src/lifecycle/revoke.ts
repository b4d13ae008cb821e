import type { LeaseDeps } from './context.js';
import type { Lease } from '../leases/lease.js';
import { leaseFields, type RevokeCause } from '../leases/audit-log.js';
import type { AdminSession, RevokeResult } from '../engines/engine.js';
import { runtimeError } from '../core/errors.js';
import { redact } from '../core/redact.js';
import { withAdmin, openAdmin } from './admin-access.js';
import { adminRefOf } from './lease-ref.js';
import { currentOwner } from '../reaper/process-alive.js';

/**
 * Revoke one local lease: block login, end sessions, drop what it owns, drop it (the engine
 * does the steps). The lease file goes only once the server confirms the login is gone, so a
 * failure leaves it for the reaper and `jit reap` to retry.
 */
export async function revokeLease(lease: Lease, deps: LeaseDeps, cause: RevokeCause, secret?: string): Promise<RevokeResult> {
  let result: RevokeResult;
  try {
    await deps.leases.save({ ...lease, state: 'revoking', revoker: currentOwner(), revokeCause: cause });
    const run = async (session: AdminSession) => session.revoke({ login: lease.user, leaseId: lease.id });
    if (secret) {
      const opened = await openAdmin(adminRefOf(lease), deps, secret);
      try {
        result = await run(opened.session);
      } finally {
        await opened.session.close().catch(() => {});
      }
    } else {
      result = await withAdmin(adminRefOf(lease), deps, (a) => run(a.session));
    }
  } catch (err) {
    const message = redact(err instanceof Error ? err.message : String(err));
    await recordFailure(lease, deps, cause, message);
    throw err;
  }
  if (!result.gone || result.errors.length > 0) {
    const message = result.errors.join('; ') || 'the login still exists';
    await recordFailure(lease, deps, cause, message);
    throw runtimeError(`could not fully revoke ${lease.user}: ${message}`, 'the reaper retries; run `jit revoke ' + lease.id + '` again or `jit reap`');
  }
  await deps.leases.remove(lease.id);
  await deps.audit.append({
    event: 'revoke',
    cause,
    ...leaseFields(lease),
    actor: actorOf(deps),
    terminated_sessions: result.terminated,
    ...(result.alreadyGone ? { already_gone: true } : {}),
  });
  return result;
}

async function recordFailure(lease: Lease, deps: LeaseDeps, cause: RevokeCause, message: string): Promise<void> {
  // Someone else (the reaper, another `jit revoke`) may have finished meanwhile and removed
  // the file: never bring a revoked lease back.
  if (await deps.leases.get(lease.id).catch(() => null)) {
    await deps.leases.save({ ...lease, state: 'revoking', lastError: message, revokeCause: cause }).catch(() => {});
  }
  await deps.audit.append({ event: 'revoke-failed', cause, ...leaseFields(lease), actor: actorOf(deps), error: message }).catch(() => {});
}

export function actorOf(deps: LeaseDeps): string {
  return `${deps.requester.user}@${deps.requester.host}`;
}

/** What revokeLeases did for one lease: the result when it is fully gone, else the error. */
export interface LeaseRevokeOutcome {
  lease: Lease;
  cause: RevokeCause;
  result?: RevokeResult;
  error?: Error;
}

/** Leases revoked through one admin session share the server, the database and the admin. */
export function adminKeyOf(lease: Lease): string {
  const t = lease.target;
  return [t.engine, t.host.toLowerCase(), t.port, t.database, t.adminUser, lease.database, lease.adminSource].join('\u0000');
}

/**
 * revokeLease for many leases of one server (same adminKeyOf): one admin session, and the
 * engine's revokeMany, so every login is blocked before any is dropped. Same lease-file and
 * audit rules as revokeLease, per lease.
 */
export async function revokeLeases(items: Array<{ lease: Lease; cause: RevokeCause }>, deps: LeaseDeps, secret?: string): Promise<LeaseRevokeOutcome[]> {
  if (items.length === 0) return [];
  for (const { lease, cause } of items) await deps.leases.save({ ...lease, state: 'revoking', revoker: currentOwner(), revokeCause: cause });
  let results: RevokeResult[];
  try {
    const opened = await openAdmin(adminRefOf(items[0]!.lease), deps, secret);
    try {
      results = await opened.session.revokeMany(items.map(({ lease }) => ({ login: lease.user })));
    } finally {
      await opened.session.close().catch(() => {});
    }
  } catch (err) {
    const message = redact(err instanceof Error ? err.message : String(err));
    for (const { lease, cause } of items) await recordFailure(lease, deps, cause, message);
    return items.map(({ lease, cause }) => ({ lease, cause, error: err instanceof Error ? err : new Error(message) }));
  }
  const outcomes: LeaseRevokeOutcome[] = [];
  const audit: Parameters<LeaseDeps['audit']['append']> = [];
  for (const [i, { lease, cause }] of items.entries()) {
    const result = results[i]!;
    if (!result.gone || result.errors.length > 0) {
      const message = redact(result.errors.join('; ') || 'the login still exists');
      await recordFailure(lease, deps, cause, message);
      outcomes.push({ lease, cause, error: runtimeError(`could not fully revoke ${lease.user}: ${message}`, 'the reaper retries; run `jit revoke ' + lease.id + '` again or `jit reap`') });
      continue;
    }
    await deps.leases.remove(lease.id);
    audit.push({
      event: 'revoke',
      cause,
      ...leaseFields(lease),
      actor: actorOf(deps),
      terminated_sessions: result.terminated,
      ...(result.alreadyGone ? { already_gone: true } : {}),
    });
    outcomes.push({ lease, cause, result });
  }
  await deps.audit.append(...audit);
  return outcomes;
}
