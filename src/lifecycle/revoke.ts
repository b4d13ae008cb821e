import type { Deps } from '../cli/deps.js';
import type { Lease } from '../leases/lease.js';
import { leaseFields, type RevokeCause } from '../leases/audit-log.js';
import type { RevokeResult } from '../engines/engine.js';
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
export async function revokeLease(lease: Lease, deps: Deps, cause: RevokeCause, secret?: string): Promise<RevokeResult> {
  let result: RevokeResult;
  try {
    await deps.leases.save({ ...lease, state: 'revoking', revoker: currentOwner(), revokeCause: cause });
    const run = async (session: { revoke(login: string): Promise<RevokeResult> }) => session.revoke(lease.user);
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

async function recordFailure(lease: Lease, deps: Deps, cause: RevokeCause, message: string): Promise<void> {
  // Someone else (the reaper, another `jit revoke`) may have finished meanwhile and removed
  // the file: never bring a revoked lease back.
  if (await deps.leases.get(lease.id).catch(() => null)) {
    await deps.leases.save({ ...lease, state: 'revoking', lastError: message, revokeCause: cause }).catch(() => {});
  }
  await deps.audit.append({ event: 'revoke-failed', cause, ...leaseFields(lease), actor: actorOf(deps), error: message }).catch(() => {});
}

export function actorOf(deps: Deps): string {
  return `${deps.requester.user}@${deps.requester.host}`;
}
