import { usageError } from '../core/errors.js';
import type { MintDeps } from './context.js';
import type { Engine } from '../engines/engine.js';
import type { Lease, LeaseOwner } from '../leases/lease.js';
import { targetFromConfig } from '../engines/engine.js';
import { isDue, markerOf } from '../leases/lease.js';
import { EXIT, JitError } from '../core/errors.js';
import { leaseFields } from '../leases/audit-log.js';
import { resolveRequest, type ResolvedRequest } from '../policy/resolve.js';
import { makeLoginName } from '../core/names.js';
import { generateLeaseId, generatePassword } from '../core/random.js';
import { registerSecret, redact } from '../core/redact.js';
import { formatDuration } from '../core/duration.js';
import { adminSecret, openAdmin } from './admin-access.js';
import { chooseTarget } from './choose.js';

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
  /** The audit event that records the hand-out, written with the mint in one append. */
  handout: 'handout' | 'exec' | 'connect';
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

const MAX_REASON = 1000;
/** What every engine's marker holds for the requester (MySQL's ledger column: VARCHAR(255)). */
const MAX_REQUESTER = 255;

/**
 * validate → load admin secret → server clock → intent record → create login (one transaction) → lease
 * (local file + server marker) → reaper → hand out. Any failure after the intent record
 * leaves something `jit reap` and the reaper clean up.
 */
export async function mintLease(opts: MintOptions, deps: MintDeps): Promise<Minted> {
  const policy = await deps.policy();
  const chosen = await chooseTarget(policy, opts, deps);
  const reasonLength = [...(chosen.reason?.trim() ?? '')].length;
  // The reason goes into the audit trail, the lease and the server's marker: keep it a sentence.
  if (reasonLength > MAX_REASON) {
    throw usageError(`the reason is ${reasonLength} characters long; at most ${MAX_REASON} are accepted`, 'say why in fewer words; a ticket link is enough');
  }
  // The requester goes into the server's marker too: refuse here, the same on every engine,
  // rather than have one server reject the marker halfway through a mint.
  const requesterLength = [...deps.requester.user].length;
  if (requesterLength > MAX_REQUESTER) {
    throw usageError(`the requester name is ${requesterLength} characters long; at most ${MAX_REQUESTER} are accepted`, 'set JIT_REQUESTER to a shorter name for you');
  }
  const resolved = resolveRequest(policy, { ...chosen, ttl: opts.ttl, only: opts.only });
  const { db, role } = resolved;
  const engine = await deps.engine(db.engine);
  await opts.preflight?.(engine);

  // Questions (database, role, reason) are behind us: from here on a spinner may show.
  const spinner = deps.ui.spinner(`Creating a temporary ${role.name} login on ${db.name}…`);
  try {
    return await mintResolved(opts, deps, resolved, chosen.reason, engine);
  } finally {
    spinner.stop();
  }
}

async function mintResolved(opts: MintOptions, deps: MintDeps, resolved: ResolvedRequest, reason: string | undefined, engine: Engine): Promise<Minted> {
  const { db, role } = resolved;
  const target = targetFromConfig(db);
  const ref = { database: db.name, target, adminSource: db.admin.password };
  const secret = await adminSecret(ref, deps);

  const opened = await openAdmin(ref, deps, secret).catch(async (err) => {
    await deps.audit.append({ event: 'mint-failed', database: db.name, role: role.name, requester: deps.requester.user, requester_host: deps.requester.host, command: opts.command, error: redact(String(err?.message ?? err)) });
    throw err;
  });
  let lease: Lease;
  let password: string;
  try {
    // Expiry is counted on the server's clock: it is the one VALID UNTIL and `jit reap` use, and
    // a laptop's clock may be off by minutes. The skew lets the reaper judge "due" locally.
    const before = deps.now();
    const serverNow = (await opened.session.serverTime()).getTime();
    const clockSkewMs = Math.round(serverNow - (before + deps.now()) / 2);
    password = generatePassword();
    registerSecret(password);
    lease = {
      id: generateLeaseId(),
      database: db.name,
      role: role.name,
      user: makeLoginName(deps.requester.user, engine.profile.maxLoginLength),
      target,
      adminSource: db.admin.password,
      requester: deps.requester.user,
      requesterHost: deps.requester.host,
      ...(reason?.trim() ? { reason: reason.trim() } : {}),
      createdAt: new Date(serverNow).toISOString(),
      expiresAt: new Date(serverNow + resolved.ttlMs).toISOString(),
      maxExpiresAt: new Date(serverNow + role.maxTtlMs).toISOString(),
      clockSkewMs,
      state: 'intent',
      command: opts.command,
      ...(opts.owner ? { owner: opts.owner } : {}),
    };
    await deps.leases.save(lease, true);
  } catch (err) {
    await opened.session.close().catch(() => {});
    throw err;
  }
  deps.reaper.prestart();

  const audit = { ...leaseFields(lease), ttl: formatDuration(resolved.ttlMs), command: opts.command };
  try {
    await opened.session.mint({
      login: lease.user,
      password,
      expiresAt: new Date(lease.expiresAt),
      grants: resolved.grants,
      memberOf: resolved.memberOf,
      connectionLimit: role.connectionLimit,
      marker: markerOf(lease),
    });
    lease.state = 'active';
  } catch (err) {
    // The transaction rolled back, but a connection lost around COMMIT leaves the outcome
    // unknown: drop the login if it exists; the intent record stays until that is confirmed,
    // so the reaper finishes the job otherwise.
    const res = await opened.session.revoke({ login: lease.user, leaseId: lease.id }).catch(() => null);
    if (res?.gone && res.errors.length === 0) await deps.leases.remove(lease.id);
    await deps.audit.append({ ...audit, event: 'mint-failed', error: redact(String((err as Error)?.message ?? err)) });
    throw err;
  } finally {
    await opened.session.close().catch(() => {});
  }
  await deps.leases.save(lease);
  await deps.audit.append({ ...audit, event: 'mint' }, { ...leaseFields(lease), event: opts.handout, command: opts.command });
  await deps.reaper.handOff(lease, secret);
  // Expired is final, also when everything above was slow (a lock wait, a stalled reaper, a
  // suspended laptop): a credential past its expiry is never handed out.
  if (isDue(lease, deps.now())) {
    throw new JitError(`lease ${lease.id} (${lease.user}) expired before it could be handed out`, {
      exitCode: EXIT.runtime,
      hint: 'run the command again (with a longer --ttl if this repeats); the reaper or `jit reap` removes the expired login',
    });
  }

  return {
    lease,
    password,
    uri: engine.buildUri(target, lease.user, password),
    engine,
    clientEnv: engine.clientEnv(target, lease.user, password),
  };
}
