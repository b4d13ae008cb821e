import { usageError } from '../core/errors.js';
import type { MintDeps } from './context.js';
import type { AdminSession, Engine, ServerTarget } from '../engines/engine.js';
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
import { cancelOnSignals, cancelledError, unlessAborted } from '../core/cancel.js';
import { endSecretCommands } from '../secrets/admin-secret.js';
import { chooseTarget } from './choose.js';
import { revokeLease } from './revoke.js';

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
  /** Checked after validation and before anything touches a server (e.g. the client binary exists, the target suits the output format). */
  preflight?: (engine: Engine, target: ServerTarget) => Promise<void>;
}

export interface Minted {
  lease: Lease;
  password: string;
  uri: string;
  engine: Engine;
  /** The client's own variables (PGHOST…) without DATABASE_URL. */
  clientEnv: Record<string, string>;
}

/** The one line a cancelled mint ends with. */
const CANCELLED = 'cancelled; nothing was handed out';
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
  await opts.preflight?.(engine, targetFromConfig(db));
  // The request is valid: start a missing reaper now, so its start-up overlaps reading the
  // admin secret and creating the login, and the hand-off finds it listening.
  deps.reaper.prestart();

  // Questions (database, role, reason) are behind us: from here on a spinner may show, and
  // Ctrl-C (or SIGTERM, a closed terminal) cancels the mint instead of killing jit half-way:
  // a `command:` source is ended, a login already created is dropped, and nothing is handed out.
  const cancel = cancelOnSignals();
  const spinner = deps.ui.spinner(`Creating a temporary ${role.name} login on ${db.name}…`);
  cancel.signal.addEventListener('abort', () => {
    spinner.stop();
    endSecretCommands();
  }, { once: true });
  try {
    return await mintResolved(opts, deps, resolved, chosen.reason, engine, cancel.signal);
  } catch (err) {
    // Whatever failed once the mint was cancelled, the outcome is the cancel.
    throw cancel.signal.aborted ? cancelledError(CANCELLED) : err;
  } finally {
    spinner.stop();
    cancel.close();
  }
}

async function mintResolved(opts: MintOptions, deps: MintDeps, resolved: ResolvedRequest, reason: string | undefined, engine: Engine, signal: AbortSignal): Promise<Minted> {
  const { db, role } = resolved;
  const target = targetFromConfig(db);
  const ref = { database: db.name, target, adminSource: db.admin.password };
  const failed = (err: unknown) => ({
    event: 'mint-failed' as const, database: db.name, role: role.name, requester: deps.requester.user, requester_host: deps.requester.host, command: opts.command,
    error: signal.aborted ? cancelNote(signal) : redact(String((err as Error)?.message ?? err)),
  });
  const secret = await unlessAborted(adminSecret(ref, deps), signal).catch(async (err) => {
    if (signal.aborted) await deps.audit.append(failed(err));
    throw err;
  });

  // A connection still being opened when the mint is cancelled is closed once it is there.
  const opened = await unlessAborted(openAdmin(ref, deps, secret), signal, (late) => late.session.close().catch(() => {})).catch(async (err) => {
    await deps.audit.append(failed(err));
    throw err;
  });
  let lease: Lease;
  let password: string;
  try {
    // Expiry is counted on the server's clock: it is the one VALID UNTIL and `jit reap` use, and
    // a laptop's clock may be off by minutes. The skew lets the reaper judge "due" locally.
    const before = deps.now();
    const serverNow = (await unlessAborted(opened.session.serverTime(), signal)).getTime();
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
    // Cancelled before the server was asked to create anything: there is nothing to undo there.
    if (signal.aborted) {
      await deps.leases.remove(lease.id);
      throw cancelledError(CANCELLED);
    }
  } catch (err) {
    await opened.session.close().catch(() => {});
    if (signal.aborted) await deps.audit.append(failed(err));
    throw err;
  }

  const audit = { ...leaseFields(lease), ttl: formatDuration(resolved.ttlMs), command: opts.command };
  // Cancelled while the server works (a lock wait): interrupt the statement, so its transaction
  // rolls back, and give the reaper the lease with the credential at once, so it finishes the
  // clean-up should jit itself be killed before it could.
  let handedOff: Promise<void> | undefined;
  let interrupted: Promise<void> | undefined;
  const onAbort = () => {
    interrupted = opened.session.cancel?.().catch(() => {});
    handedOff = deps.reaper.handOff(lease, secret).catch(() => {});
  };
  signal.addEventListener('abort', onAbort, { once: true });
  let closed: Promise<void> | undefined;
  try {
    const created = await opened.session.mint({
      login: lease.user,
      password,
      expiresAt: new Date(lease.expiresAt),
      grants: resolved.grants,
      memberOf: resolved.memberOf,
      ...(resolved.narrowed ? { narrowed: true } : {}),
      connectionLimit: role.connectionLimit,
      limits: role.limits,
      marker: markerOf(lease),
    });
    // Created, but cancelled meanwhile: it is dropped below like a failed mint's.
    if (signal.aborted) throw cancelledError(CANCELLED);
    await countFromCreation(lease, created.serverNow.getTime(), resolved.ttlMs, role.maxTtlMs, opened.session);
    lease.state = 'active';
  } catch (err) {
    // The transaction rolled back, but a connection lost around COMMIT leaves the outcome
    // unknown: drop the login if it exists; the intent record stays until that is confirmed,
    // so the reaper finishes the job otherwise. (An interrupt still on its way must not hit the
    // revocation: it is waited for first.)
    await interrupted;
    const res = await opened.session.revoke({ login: lease.user, leaseId: lease.id }).catch(() => null);
    const gone = Boolean(res?.gone && res.errors.length === 0);
    if (gone) await deps.leases.remove(lease.id);
    await deps.audit.append({ ...audit, event: 'mint-failed', error: signal.aborted ? cancelNote(signal) : redact(String((err as Error)?.message ?? err)) });
    if (!signal.aborted) throw err;
    await handedOff;
    if (!gone) deps.ui.notice(`warning: ${lease.user} may exist on ${db.name}; the reaper removes it (or run \`jit reap\`)`);
    throw cancelledError(CANCELLED);
  } finally {
    signal.removeEventListener('abort', onAbort);
    // Once minted, the admin session ends while the lease is recorded and handed off (awaited below).
    closed = opened.session.close().catch(() => {});
    if (lease.state !== 'active') await closed;
  }
  // The reaper reads the lease file it is handed: saved first; the audit trail meanwhile.
  const saved = deps.leases.save(lease);
  const audited = deps.audit.append({ ...audit, event: 'mint' }, { ...leaseFields(lease), event: opts.handout, command: opts.command });
  try {
    await saved;
    await deps.reaper.handOff(lease, secret);
  } finally {
    await Promise.allSettled([audited, closed]);
  }
  await audited;
  // Cancelled after the login was recorded and handed to the reaper: revoke it before exiting.
  if (signal.aborted) {
    await revokeLease(lease, deps, 'mint-failed', secret).catch(() => {
      deps.ui.notice(`warning: ${lease.user} could not be revoked yet; the reaper retries until it is gone`);
    });
    throw cancelledError(CANCELLED);
  }
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
    uri: engine.buildUri(target, lease.user, password, { leaseId: lease.id }),
    engine,
    clientEnv: engine.clientEnv(target, lease.user, password, { leaseId: lease.id, userEnv: deps.env }),
  };
}

/** How the audit trail says a mint was cancelled, and by what. */
function cancelNote(signal: AbortSignal): string {
  return typeof signal.reason === 'string' ? `cancelled (${signal.reason})` : 'cancelled';
}

/** Server time a mint may spend waiting (a lock held elsewhere) before the TTL is counted again. */
const WAIT_NOTICED_MS = 1_000;

/**
 * The TTL counts from when the login exists: a mint that waited on the server (another mint's or
 * a DBA's lock) would otherwise hand out less time than asked (a 1m login living 51 s). The
 * lease's times move to the creation instant, and the server's expiry with them.
 */
async function countFromCreation(lease: Lease, createdMs: number, ttlMs: number, maxTtlMs: number, session: AdminSession): Promise<void> {
  if (createdMs - Date.parse(lease.createdAt) < WAIT_NOTICED_MS) return;
  lease.createdAt = new Date(createdMs).toISOString();
  lease.expiresAt = new Date(createdMs + ttlMs).toISOString();
  lease.maxExpiresAt = new Date(createdMs + maxTtlMs).toISOString();
  await session.extend({ login: lease.user, expiresAt: new Date(lease.expiresAt), marker: markerOf(lease) });
}
