import { chmod, stat } from 'node:fs/promises';
import { lstatSync } from 'node:fs';
import { dirname } from 'node:path';
import type { LeaseDeps } from '../lifecycle/context.js';
import type { Lease } from '../leases/lease.js';
import type { RevokeCause } from '../leases/audit-log.js';
import { isAbandonedIntent, isDue } from '../leases/lease.js';
import { LeaseStore } from '../leases/lease-store.js';
import { AuditLog } from '../leases/audit-log.js';
import { stateDir, statePaths } from '../leases/paths.js';
import { ensurePrivateDir } from '../core/fs-secure.js';
import { registerSecret } from '../core/redact.js';
import { isServerError } from '../core/errors.js';
import { currentRequester } from '../core/requester.js';
import { adminKeyOf, revokeLeases } from '../lifecycle/revoke.js';
import { forgetAdminSecret, openAdmin } from '../lifecycle/admin-access.js';
import { adminRefOf } from '../lifecycle/lease-ref.js';
import { credentialKey, ensurePrivateSocketDir, reaperSocketPath, type ReaperReply, type ReaperRequest } from './protocol.js';
import { bindSingleInstance, whoAnswers } from './reaper-server.js';
import { isOwnerAlive } from './process-alive.js';
import { reaperLogger } from './reaper-log.js';
import { LeaseFileCache } from './lease-cache.js';

const TICK_MS = 500;
const IDLE_TICKS_BEFORE_EXIT = 6;
const CONCURRENCY = 8;
const MAX_BACKOFF_MS = 5_000;
/** Without a directory change, lease files are stat'ed (and changed ones re-read) this often. */
const FULL_SCAN_MS = 30_000;
/** Without a change to the socket file, whoAnswers() confirms it still leads here this often. */
const ASK_EVERY_MS = 10_000;

/** Why a lease must go now, or null. */
export function dueCause(lease: Lease, nowMs: number): RevokeCause | null {
  if (isDue(lease, nowMs)) return 'expiry';
  if (lease.owner && !isOwnerAlive(lease.owner)) return 'exit';
  if (isAbandonedIntent(lease, nowMs)) return 'crash-recovery';
  const abandoned = lease.revoker !== undefined && !isOwnerAlive(lease.revoker);
  if (lease.state === 'revoking' && (lease.lastError || abandoned)) return lease.revokeCause ?? 'manual';
  return null;
}

/**
 * The detached reaper: one per state directory. Wakes every TICK_MS against the wall clock
 * (never one long timer: timers stop while a laptop sleeps), revokes what is due, retries with
 * jittered backoff while a server is down, and exits when no lease is left.
 */
export async function runReaper(env: NodeJS.ProcessEnv): Promise<number> {
  const root = stateDir(env);
  await ensurePrivateDir(root);
  const log = reaperLogger(statePaths(root).reaperLog);
  const store = new LeaseStore(root);
  const credentials = new Map<string, string>();
  const retry = new Map<string, { attempts: number; nextAt: number }>();
  let stopRequested = false;
  const inFlight = new Set<string>();
  const revoked = new Set<string>();
  let wake: (() => void) | null = null;

  const onRequest = (req: ReaperRequest): ReaperReply => {
    if (req.type === 'lease') {
      if (req.secret) {
        registerSecret(req.secret);
        // A new or better credential: whatever was backing off for the lack of it retries now.
        if (credentials.get(req.key) !== req.secret) retry.clear();
        credentials.set(req.key, req.secret);
      }
      retry.delete(req.id);
      wake?.();
    } else if (req.type === 'stop') {
      // Anyone who can reach the socket can ask, a `jit exec` child included: the reaper leaves
      // only once no lease is left, whoever asks (see the idle exit in the loop).
      stopRequested = true;
      wake?.();
    }
    return { ok: true, pid: process.pid, keys: [...credentials.keys()] };
  };

  const socketPath = reaperSocketPath(root);
  const makeSocketDir = async () => (dirname(socketPath) === root ? ensurePrivateDir(root) : ensurePrivateSocketDir(socketPath));
  await makeSocketDir();
  // Created 0600 from the start: no window in which another user could connect.
  process.umask(0o077);
  let server = await bindSingleInstance(socketPath, onRequest);
  if (!server) return 0;
  await chmod(socketPath, 0o600).catch(() => {});
  // Set only once whoAnswers() confirmed the path leads here: read at bind time, it could be
  // the file of a racing reaper that took the path over in between.
  let boundIno: string | null = null;
  let askedAt = Date.now();
  log(`reaper ${process.pid} started for ${root}`);
  // Detached into its own session already; a closing terminal must not end revocation.
  process.on('SIGHUP', () => {});
  process.on('SIGINT', () => {});
  // SIGTERM is a request like `stop`: honoured once no lease is left. Only SIGKILL ends a reaper
  // with live leases, and the next jit command of any kind starts a new one.
  process.on('SIGTERM', () => {
    log(`reaper ${process.pid} asked to stop (SIGTERM); leaving once no lease is left`);
    stopRequested = true;
    wake?.();
  });

  const deps = reaperDeps(env, store);
  let idleTicks = 0;
  let cached: { mtimeMs: number; leases: Lease[]; at: number } | null = null;

  // The leases of the last listing, and those kept after the whole state directory disappeared
  // (an `rm -rf` of $JIT_HOME): the logins behind them still exist and still have to go.
  let known = new Map<string, Lease>();
  // Re-reads only the lease files that changed (idle with 1000 leases, reading them all every
  // few seconds cost 3% of a core).
  const leaseFiles = new LeaseFileCache(store);
  const orphans = new Map<string, Lease>();
  const warned = new Set<string>();
  // A lease file that disappeared while its login was live: `jit revoke` removes it only once
  // the server confirmed the login gone, so ask the server. Until it answers the lease is kept
  // (an orphan); a login still there (the file deleted by hand, by a leased child, or with all
  // of $JIT_HOME) is revoked at its expiry as if the file were there.
  const verifying = new Set<string>();
  const verifyVanished = (lost: Lease[]) => {
    const byServer = new Map<string, Lease[]>();
    for (const l of lost) {
      if (verifying.has(l.id)) continue;
      verifying.add(l.id);
      byServer.set(adminKeyOf(l), [...(byServer.get(adminKeyOf(l)) ?? []), l]);
    }
    for (const group of byServer.values()) {
      const first = group[0]!;
      void (async () => {
        const opened = await openAdmin(adminRefOf(first), deps, credentials.get(credentialKey(first.database, first.adminSource)));
        try {
          const present = new Set((await opened.session.listLogins()).map((l) => l.login));
          for (const l of group) {
            if (present.has(l.user)) {
              log(`lease file of ${l.user} (lease ${l.id}) disappeared while the login still exists; revoking it at its expiry`);
              continue;
            }
            revoked.add(l.id);
            orphans.delete(l.id);
          }
        } finally {
          await opened.session.close().catch(() => {});
        }
      })()
        .catch((err: unknown) => log(`could not check ${group.map((l) => l.user).join(', ')} on the server (${err instanceof Error ? err.message : String(err)}); keeping them until expiry`))
        .finally(() => {
          for (const l of group) verifying.delete(l.id);
        });
    }
  };
  const keepVanished = (present: Set<string>) => {
    const lost: Lease[] = [];
    for (const [id, l] of known) {
      if (present.has(id) || revoked.has(id) || orphans.has(id)) continue;
      orphans.set(id, l);
      lost.push(l);
    }
    if (lost.length > 0) verifyVanished(lost);
  };
  const readLeases = async (now: number): Promise<Lease[]> => {
    const st = await stat(store.dir).catch(() => null);
    if (!st) {
      keepVanished(new Set());
      known = new Map();
      cached = null;
      return [...orphans.values()];
    }
    // Every lease write is a rename into the directory, which moves its mtime; a file edited in
    // place (by hand) is noticed by the full stat pass every FULL_SCAN_MS.
    if (!(cached && cached.mtimeMs === st.mtimeMs && now - cached.at < FULL_SCAN_MS)) {
      const scan = await leaseFiles.scan();
      // A file emptied, truncated or edited (its MAC no longer matches) is not believed, but the
      // login it named still exists: keep acting on the last copy this reaper read and trusted.
      const kept: Lease[] = [];
      for (const u of scan.unreadable) {
        const last = known.get(u.id);
        if (last && !revoked.has(u.id)) {
          kept.push(last);
          if (!warned.has(u.id)) log(`lease ${u.id} (${last.user}) became unreadable (${u.reason}); revoking it from the last good copy`);
        } else if (!warned.has(u.id)) log(`lease file ${u.id}.json cannot be used (${u.reason}); \`jit reap\` finds its login on the server`);
        warned.add(u.id);
      }
      cached = { mtimeMs: st.mtimeMs, leases: [...scan.leases, ...kept], at: now };
    }
    const onDisk = cached.leases;
    keepVanished(new Set(onDisk.map((l) => l.id)));
    known = new Map(onDisk.map((l) => [l.id, l]));
    for (const id of orphans.keys()) if (revoked.has(id) || known.has(id)) orphans.delete(id);
    return orphans.size ? [...onDisk, ...orphans.values()] : onDisk;
  };

  // Due leases not started yet: refilled every tick, drained as revocations finish, so a burst
  // of expiries is not rationed to CONCURRENCY per tick.
  let queue: Array<[Lease, RevokeCause]> = [];
  let lost = false;
  // The due leases of one server (adminKeyOf) go together, through one admin session (one
  // SCRAM login) and revokeMany; CONCURRENCY bounds the servers handled at once.
  const serversInFlight = new Set<string>();
  const pump = () => {
    while (!lost && serversInFlight.size < CONCURRENCY && queue.length > 0) {
      const i = queue.findIndex(([l]) => !serversInFlight.has(adminKeyOf(l)));
      if (i < 0) break;
      const key = adminKeyOf(queue[i]![0]);
      const batch = queue.filter(([l]) => adminKeyOf(l) === key && !inFlight.has(l.id));
      queue = queue.filter(([l]) => adminKeyOf(l) !== key);
      if (batch.length > 0) void revokeBatch(key, batch);
    }
  };

  const failed = (lease: Lease, err: unknown) => {
    // A rotated admin password: forget the one handed over and read the source again next time.
    if (isServerError(err, 'admin-auth')) {
      credentials.delete(credentialKey(lease.database, lease.adminSource));
      forgetAdminSecret(lease.database, lease.adminSource);
    }
    const r = retry.get(lease.id) ?? { attempts: 0, nextAt: 0 };
    r.attempts += 1;
    const base = Math.min(MAX_BACKOFF_MS, 250 * 2 ** r.attempts);
    r.nextAt = Date.now() + base / 2 + Math.random() * (base / 2);
    retry.set(lease.id, r);
    log(`revoke ${lease.user} (lease ${lease.id}) failed, attempt ${r.attempts}: ${err instanceof Error ? err.message : String(err)}`);
  };

  const revokeBatch = async (key: string, queued: Array<[Lease, RevokeCause]>) => {
    serversInFlight.add(key);
    for (const [l] of queued) inFlight.add(l.id);
    try {
      // Queued a while ago: a `jit revoke` may have removed one, or `jit extend` moved it since.
      const items: Array<{ lease: Lease; cause: RevokeCause }> = [];
      for (const [q, cause] of queued) {
        const fresh = orphans.has(q.id) ? q : await store.get(q.id).catch(() => q);
        if (fresh && dueCause(fresh, Date.now())) items.push({ lease: fresh, cause });
      }
      if (items.length === 0) return;
      const first = items[0]!.lease;
      const secret = credentials.get(credentialKey(first.database, first.adminSource));
      const outcomes = await revokeLeases(items, deps, secret).catch((err: unknown) => items.map(({ lease, cause }) => ({ lease, cause, error: err, result: undefined })));
      for (const { lease, cause, result, error } of outcomes) {
        if (!result) {
          failed(lease, error);
          continue;
        }
        retry.delete(lease.id);
        revoked.add(lease.id);
        known.delete(lease.id);
        orphans.delete(lease.id);
        log(`revoked ${lease.user} (lease ${lease.id}, ${cause}, ${result.terminated} session(s) ended)`);
      }
    } finally {
      for (const [l] of queued) inFlight.delete(l.id);
      serversInFlight.delete(key);
      cached = null;
      pump();
    }
  };

  for (;;) {
    // Asking the socket who holds it costs a connection per tick (most of an idle reaper's CPU);
    // a takeover unlinks and binds a new socket file, so an unchanged file (inode and change
    // time) means still ours. Asked anyway every ASK_EVERY_MS.
    const ino = socketInode(socketPath);
    const trusted = server !== null && ino !== null && ino === boundIno && Date.now() - askedAt < ASK_EVERY_MS;
    const holder = trusted ? process.pid : await whoAnswers(socketPath);
    if (!trusted) askedAt = Date.now();
    if (holder === process.pid) boundIno = ino;
    if (holder !== process.pid && holder !== 'unknown') {
      // The path no longer leads here (a racing takeover, see bindSingleInstance). Never close()
      // this server: closing a unix socket server unlinks the path, which may be another's now.
      server?.unref();
      server = null;
      // 'nobody' also when the socket's directory was removed ($JIT_HOME, or a runtime dir at
      // logout): make it again and listen; failing that, keep reaping without a socket.
      let again: Awaited<ReturnType<typeof bindSingleInstance>> | undefined = null;
      if (holder === 'nobody') {
        again = await makeSocketDir()
          .then(() => bindSingleInstance(socketPath, onRequest))
          .catch((err) => {
            log(`reaper ${process.pid} cannot listen on ${socketPath} (${err instanceof Error ? err.message : String(err)}); reaping on`);
            return undefined;
          });
      }
      if (again === null) {
        log(`reaper ${process.pid} leaving: ${holder === 'nobody' ? 'another reaper took' : `reaper ${holder} holds`} ${socketPath}`);
        lost = true;
        break;
      }
      if (again) {
        server = again;
        boundIno = null;
        await chmod(socketPath, 0o600).catch(() => {});
      }
    }
    const now = Date.now();
    const leases = await readLeases(now).catch(() => []);
    const due: Array<[Lease, RevokeCause]> = [];
    for (const lease of leases) {
      if (inFlight.has(lease.id)) continue;
      const r = retry.get(lease.id);
      if (r && now < r.nextAt) continue;
      const cause = dueCause(lease, now);
      if (cause) due.push([lease, cause]);
    }
    queue = due;
    pump();
    if (stopRequested && leases.length === 0 && inFlight.size === 0) break;
    idleTicks = leases.length === 0 && inFlight.size === 0 ? idleTicks + 1 : 0;
    if (idleTicks >= IDLE_TICKS_BEFORE_EXIT) {
      // Stop accepting, then look once more: a lease written meanwhile keeps us alive.
      if (server) await new Promise<void>((r) => server!.close(() => r()));
      cached = null;
      if ((await store.list()).length === 0) break;
      server = await bindSingleInstance(socketPath, onRequest);
      if (!server) break;
      boundIno = null;
      idleTicks = 0;
    }
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, TICK_MS);
      wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
    wake = null;
  }
  if (!lost) server?.close();
  log(`reaper ${process.pid} exiting`);
  return 0;
}

/** The socket file's identity: a takeover's new file differs in inode or change time. */
function socketInode(path: string): string | null {
  const st = lstatSync(path, { throwIfNoEntry: false, bigint: true });
  return st ? `${st.ino}:${st.ctimeNs}` : null;
}

/** What the reaper works with: its leases, the audit trail, and the admin credentials' sources. */
function reaperDeps(env: NodeJS.ProcessEnv, store: LeaseStore): LeaseDeps {
  let keychain: ReturnType<LeaseDeps['keychain']> | undefined;
  return {
    env,
    now: () => Date.now(),
    leases: store,
    audit: new AuditLog(store.root),
    requester: currentRequester(env),
    keychain: () => (keychain ??= import('../secrets/os-keychain.js').then((m) => m.openOsKeychain())),
    engine: (name) => import('../engines/registry.js').then((m) => m.loadEngine(name)),
  };
}
