import { connect } from 'node:net';
import { lstatSync } from 'node:fs';
import type { Lease } from '../leases/lease.js';
import type { LeaseStore } from '../leases/lease-store.js';
import type { AdminAccessDeps, ReaperHandOff } from '../lifecycle/context.js';
import { adminSecret } from '../lifecycle/admin-access.js';
import { adminRefOf } from '../lifecycle/lease-ref.js';
import { reaperEnv } from './reaper-env.js';
import { assertOwnSocket, credentialKey, reaperSocketPath, type ReaperReply, type ReaperRequest } from './protocol.js';
import { childProcess } from '../core/builtins.js';

/** What the reaper of each state directory said it holds, and when it answered this process. */
const heard = new Map<string, { reply: Extract<ReaperReply, { ok: true }>; at: number }>();
/** How long an answer vouches for the reaper being alive (a `jit connect` lasts hours). */
const HEARD_FRESH_MS = 2_000;

/** The reaper of `root`'s last answer to this process, if it came a moment ago. */
export function lastHeard(root: string): Extract<ReaperReply, { ok: true }> | undefined {
  const h = heard.get(root);
  return h && Date.now() - h.at < HEARD_FRESH_MS ? h.reply : undefined;
}

/** Send one request and wait for its reply; rejects when nobody listens. */
export function ask(root: string, req: ReaperRequest, timeoutMs = 2000): Promise<ReaperReply> {
  return new Promise((resolve, reject) => {
    const path = reaperSocketPath(root);
    try {
      assertOwnSocket(path);
    } catch (err) {
      reject(err);
      return;
    }
    const sock = connect(path);
    let buf = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error('reaper did not answer'));
    }, timeoutMs);
    sock.setEncoding('utf8');
    sock.on('connect', () => sock.write(`${JSON.stringify(req)}\n`));
    sock.on('data', (chunk: string) => {
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      // One request per connection: close now rather than wait for the reaper's end.
      sock.destroy();
      try {
        const reply = JSON.parse(buf.slice(0, nl)) as ReaperReply;
        if (reply.ok) heard.set(root, { reply, at: Date.now() });
        resolve(reply);
      } catch (err) {
        reject(err);
      }
    });
    sock.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** Whose reaper: the state directory, the environment it starts from, and the jit entry script. */
export interface ReaperPlace {
  env: NodeJS.ProcessEnv;
  stateDir: string;
  /** Path to the jit entry script: the reaper is `node <entry> __reaper`. */
  entryScript: string;
}

let spawnedAt = 0;

/** Start a detached reaper for this state directory; it exits at once if another one holds the socket. */
export function spawnReaper(deps: ReaperPlace): void {
  spawnedAt = Date.now();
  // No admin or lease secret in the long-lived reaper's environment (see reaperEnv).
  const env = reaperEnv(deps.env, deps.stateDir);
  const child = childProcess().spawn(process.execPath, [deps.entryScript, '__reaper'], { detached: true, stdio: 'ignore', env });
  child.unref();
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The longest a command waits to hand a lease to the reaper, a new one's start included. */
const DELIVER_MS = 5_000;

/** Deliver a request to the running reaper, starting one when none answers. */
async function deliver(deps: ReaperPlace, req: ReaperRequest): Promise<ReaperReply | null> {
  try {
    return await ask(deps.stateDir, req, 1000);
  } catch {
    // nobody listening (or a stale socket): start one and retry for a few seconds
  }
  // One this process started a moment ago (the hand-off's prestart) is still coming up: wait
  // for it rather than start a second one that would only lose the race for the socket.
  let respawned = Date.now() - spawnedAt > 5_000;
  if (respawned) spawnReaper(deps);
  // Bounded as a whole: a wedged reaper (SIGSTOP) accepts connections and never answers; the
  // new one takes its socket over within WEDGED_MS, and nothing here waits longer than this.
  const deadline = Date.now() + DELIVER_MS;
  for (let i = 0; Date.now() < deadline; i++) {
    await sleep(i < 10 ? 25 : 100);
    // The early one had nothing to watch while the admin secret was read (a slow `command:`
    // source) and may have left already: start another once.
    if (!respawned && Date.now() - spawnedAt > 1_500) {
      respawned = true;
      spawnReaper(deps);
    }
    try {
      return await ask(deps.stateDir, req, Math.max(50, Math.min(500, deadline - Date.now())));
    } catch {
      // still starting
    }
  }
  return null;
}

/**
 * The hand-off of minting commands to the reaper of `place`. `warn` tells a person when the
 * reaper could not be reached.
 */
export function reaperHandOff(place: ReaperPlace, warn: (line: string) => void): ReaperHandOff {
  return {
    // Early, while the login is being created, when its socket is not even there (first use,
    // after a reboot): the hand-off then finds it up instead of waiting for it.
    prestart() {
      try {
        lstatSync(reaperSocketPath(place.stateDir));
      } catch {
        spawnReaper(place);
      }
    },
    // The admin credential goes along, so expiry never depends on reaching the keychain later
    // (a locked keychain refuses background access).
    async handOff(lease: Lease, secret: string) {
      const reply = await deliver(place, { type: 'lease', id: lease.id, key: credentialKey(lease.database, lease.adminSource), secret });
      if (!reply?.ok) warn(`warning: the reaper did not start; ${lease.user} still expires on the server at ${lease.expiresAt} — run \`jit reap\` to clean up`);
    },
  };
}

/** What ensureReaper reads: the local leases, the admin secrets' sources, and whether to start one. */
export type EnsureReaperDeps = ReaperPlace & Pick<AdminAccessDeps, 'env' | 'keychain'> & { leases: LeaseStore; startReaper: boolean };

/**
 * Start the reaper when leases exist and none is running (after a kill -9 or a reboot), and
 * hand it the admin credentials this process can read, as a minting command would: the reaper
 * must not depend on reaching them later from the background.
 */
export async function ensureReaper(deps: EnsureReaperDeps, opts: { credentials: boolean } = { credentials: true }): Promise<void> {
  if (!deps.startReaper) return;
  const leases = await deps.leases.list();
  if (leases.length === 0) return;
  let held: string[] = [];
  try {
    const reply = await ask(deps.stateDir, { type: 'hello' }, 1000);
    held = reply.ok ? (reply.keys ?? []) : [];
  } catch {
    spawnReaper(deps);
  }
  if (!opts.credentials) return;
  // Also a running reaper may lack one (restarted by a command that could not read it).
  const sources = new Map<string, Lease>();
  for (const l of leases) {
    const key = credentialKey(l.database, l.adminSource);
    if (!held.includes(key)) sources.set(key, l);
  }
  for (const [key, lease] of sources) {
    const secret = await adminSecret(adminRefOf(lease), deps).catch(() => undefined);
    await deliver(deps, { type: 'lease', id: lease.id, key, ...(secret ? { secret } : {}) });
  }
}
