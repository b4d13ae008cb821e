import { existsSync } from 'node:fs';
import { loadEngine } from '../engines/registry.js';
import { tryParseDuration } from '../core/duration.js';
import type { Lease } from '../leases/lease.js';
import type { RevokeCause } from '../leases/audit-log.js';
import type { LeaseDeps } from '../lifecycle/context.js';
import { LeaseStore } from '../leases/lease-store.js';
import { AuditLog } from '../leases/audit-log.js';
import { stateDir, statePaths } from '../leases/paths.js';
import { ensurePrivateDir } from '../core/fs-secure.js';
import { currentRequester } from '../core/requester.js';
import { revokeLeases } from '../lifecycle/revoke.js';
import { openAdmin } from '../lifecycle/admin-access.js';
import { adminRefOf } from '../lifecycle/lease-ref.js';
import { credentialKey, type ReaperReply, type ReaperRequest } from './protocol.js';
import { reaperLogger } from './reaper-log.js';
import { CredentialStore } from './reaper-credentials.js';
import { dueCause } from './reaper-due.js';
import { LeaseView } from './reaper-leases.js';
import { RetryBook, serverRetryPolicy, type RetryPolicy } from './reaper-retry.js';
import { RevokeScheduler } from './reaper-scheduler.js';
import { ReaperSocket } from './reaper-socket.js';

export { dueCause } from './reaper-due.js';

const TICK_MS = 500;
/** With no lease to watch: a new one arrives with a hand-off that wakes the reaper at once. */
const IDLE_TICK_MS = 2_000;
/** How long a reaper with nothing to do stays, so the next command does not pay its start. */
export const DEFAULT_LINGER_MS = 60_000;

/** `JIT_REAPER_LINGER`: a duration (`0` to leave as soon as nothing is left), else the default. */
export function lingerFrom(env: NodeJS.ProcessEnv): number {
  const v = env.JIT_REAPER_LINGER?.trim();
  if (v === undefined || v === '') return DEFAULT_LINGER_MS;
  if (/^0+[a-z]*$/i.test(v)) return 0;
  return tryParseDuration(v) ?? DEFAULT_LINGER_MS;
}

export interface ReaperOptions {
  /** The state directory whose leases this reaper revokes. */
  root: string;
  store: LeaseStore;
  deps: LeaseDeps;
  log: (line: string) => void;
  /** How long to stay with nothing to do (DEFAULT_LINGER_MS). */
  lingerMs?: number;
  /** The retry rules for a lease's server: the same for every engine unless one needs its own. */
  retryPolicy?: (lease: Lease) => RetryPolicy;
}

/**
 * The detached reaper: one per state directory. Wakes every TICK_MS against the wall clock
 * (never one long timer: timers stop while a laptop sleeps), revokes what is due, retries with
 * jittered backoff while a server is down, and exits when no lease is left.
 */
export class Reaper {
  private readonly credentials = new CredentialStore();
  private readonly retry = new RetryBook();
  private readonly view: LeaseView;
  private readonly scheduler: RevokeScheduler;
  private readonly socket: ReaperSocket;
  private stopRequested = false;
  /** Since when nothing was left to do; null while something is. */
  private idleSince: number | null = null;
  /** The state directory was seen removed. */
  private homeRemoved = false;
  /** What the last tick read, null before the first: which credentials are wanted (see wants). */
  private lastLeases: Lease[] | null = null;
  private wake: (() => void) | null = null;

  constructor(private readonly o: ReaperOptions) {
    const { deps, log } = o;
    this.view = new LeaseView({
      store: o.store,
      log,
      presentLogins: async (lease) => {
        const opened = await openAdmin(adminRefOf(lease), deps, this.credentials.for(lease));
        try {
          return new Set((await opened.session.listLogins()).map((l) => l.login));
        } finally {
          await opened.session.close().catch(() => {});
        }
      },
    });
    this.scheduler = new RevokeScheduler({
      view: this.view,
      credentials: this.credentials,
      retry: this.retry,
      retryPolicy: o.retryPolicy ?? (() => serverRetryPolicy),
      revoke: (items, secret) => revokeLeases(items, deps, secret),
      log,
    });
    this.socket = new ReaperSocket(o.root, (req) => this.handle(req), log);
  }

  /** A request on the socket: a lease to watch (with its admin credential), a stop, or hello. */
  handle(req: ReaperRequest): ReaperReply {
    if (req.type === 'lease') {
      // A new or better credential: whatever was backing off for the lack of it retries now.
      if (req.secret && this.credentials.offer(req.key, req.secret)) this.retry.clear();
      this.retry.forget(req.id);
      this.wake?.();
    } else if (req.type === 'stop') {
      // Anyone who can reach the socket can ask, a `jit exec` child included: the reaper leaves
      // only once no lease is left, whoever asks (see timeToLeave).
      this.stopRequested = true;
      this.wake?.();
    }
    return { ok: true, pid: process.pid, keys: this.credentials.keys(), wants: this.wants() };
  }

  /** One lease per admin credential the leases of the last tick need and nobody handed over. */
  private wants(): Array<{ id: string; key: string }> | undefined {
    if (!this.lastLeases) return undefined;
    const held = new Set(this.credentials.keys());
    const wanted = new Map<string, string>();
    for (const l of this.lastLeases) {
      const key = credentialKey(l.database, l.adminSource);
      if (!held.has(key) && !wanted.has(key)) wanted.set(key, l.id);
    }
    return [...wanted].map(([key, id]) => ({ id, key }));
  }

  /** Reap until no lease is left; 0 at once when another reaper holds the socket. */
  async run(): Promise<number> {
    const { log } = this.o;
    if (!(await this.socket.bind())) return 0;
    log(`reaper ${process.pid} started for ${this.o.root}`);
    // Detached into its own session already; a closing terminal must not end revocation.
    process.on('SIGHUP', () => {});
    process.on('SIGINT', () => {});
    // SIGTERM is a request like `stop`: honoured once no lease is left. Only SIGKILL ends a reaper
    // with live leases, and the next jit command of any kind starts a new one.
    process.on('SIGTERM', () => {
      log(`reaper ${process.pid} asked to stop (SIGTERM); leaving once no lease is left`);
      this.stopRequested = true;
      this.wake?.();
    });
    for (;;) {
      // A throwaway $JIT_HOME (a CI job's) removed: nothing to linger for once idle. Remembered,
      // since the socket's directory is made again below.
      this.homeRemoved ||= !existsSync(this.o.root);
      if (!(await this.socket.stillOurs())) {
        this.scheduler.halt();
        break;
      }
      const now = Date.now();
      const leases = await this.view.read(now).catch(() => null);
      this.lastLeases = leases ?? [];
      // Only after a read that worked, and never while a revocation or a check with the server
      // of a vanished lease file may still use a credential.
      if (leases && this.scheduler.idle && !this.view.orphaned) this.credentials.retainFor(leases, now);
      this.scheduler.schedule(this.due(leases ?? [], now));
      if (await this.timeToLeave((leases ?? []).length)) break;
      await this.sleep();
    }
    this.socket.release();
    log(`reaper ${process.pid} exiting`);
    return 0;
  }

  /** What must go now, less what is under way or backing off. */
  private due(leases: Lease[], now: number): Array<[Lease, RevokeCause]> {
    const due: Array<[Lease, RevokeCause]> = [];
    for (const lease of leases) {
      if (this.scheduler.busy(lease.id) || this.retry.waiting(lease.id, now)) continue;
      const cause = dueCause(lease, now);
      if (cause) due.push([lease, cause]);
    }
    return due;
  }

  /**
   * The exit rule: at once when asked to stop (or the state directory was removed) and nothing
   * is left; else once idle for the linger time, after a last look with the socket closed finds
   * no lease.
   */
  private async timeToLeave(leaseCount: number): Promise<boolean> {
    // A lease file that vanished is still being checked with the server: not idle yet.
    const idle = leaseCount === 0 && this.scheduler.idle && !this.view.orphaned;
    const now = Date.now();
    if (!idle) this.idleSince = null;
    else this.idleSince ??= now;
    const leaveNow = (this.stopRequested || this.homeRemoved) && idle;
    if (!leaveNow && (this.idleSince === null || now - this.idleSince < (this.o.lingerMs ?? DEFAULT_LINGER_MS))) return false;
    // Stop accepting, then look once more: a lease written (and handed over) since this tick
    // read the directory keeps us alive, whoever asked us to stop.
    await this.socket.close();
    this.view.invalidate();
    if ((await this.o.store.list().catch(() => [])).length === 0) return true;
    if (!(await this.socket.reopen())) return true;
    this.idleSince = null;
    return false;
  }

  /** One tick, cut short by a request on the socket or SIGTERM. */
  private async sleep(): Promise<void> {
    await new Promise<void>((resolve) => {
      // Idle: tick slower, but not past the end of the linger.
      const linger = this.o.lingerMs ?? DEFAULT_LINGER_MS;
      const ms = this.idleSince === null ? TICK_MS : Math.max(TICK_MS, Math.min(IDLE_TICK_MS, this.idleSince + linger - Date.now()));
      const t = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
    this.wake = null;
  }
}

/** `jit __reaper`: the reaper of the state directory $JIT_HOME names. */
export async function runReaper(env: NodeJS.ProcessEnv): Promise<number> {
  const root = stateDir(env);
  await ensurePrivateDir(root);
  const log = reaperLogger(statePaths(root).reaperLog);
  const store = new LeaseStore(root);
  return new Reaper({ root, store, deps: reaperDeps(env, store), log, lingerMs: lingerFrom(env) }).run();
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
    engine: loadEngine,
  };
}
