import { readdir } from 'node:fs/promises';
import { LeaseStore } from '../leases/lease-store.js';
import { stateDir, statePaths } from '../leases/paths.js';
import { ask, lastHeard, spawnReaper } from './reaper-client.js';
import { credentialKey } from './protocol.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Run after every jit invocation, whatever its outcome (a usage error included): when leases
 * exist and no reaper answers within a second (killed, or wedged by SIGSTOP), start one. It
 * also hands the running reaper the `env:` admin credentials it lacks, which this process can
 * read for free: the reaper's own environment never holds them (reaperEnv), and after a
 * rotation the old one it held was refused. Keychain and `command:` sources are left to the
 * commands that deal with servers, which never prompt as a side effect of `jit audit`.
 */
export async function reviveReaper(env: NodeJS.ProcessEnv, entryScript: string): Promise<void> {
  if (env.JIT_NO_REAPER === '1' || !entryScript) return;
  const root = stateDir(env);
  const names = await readdir(statePaths(root).leases).catch(() => [] as string[]);
  if (!names.some((n) => n.endsWith('.json') && !n.startsWith('.'))) return;
  const hello = (timeoutMs: number) => ask(root, { type: 'hello' }, timeoutMs).then((r) => (r.ok ? r : null), () => null);
  // It answered this process a moment ago (a hand-off): alive, and what it lacks is known.
  let reply = lastHeard(root) ?? (await hello(1000));
  if (!reply) {
    spawnReaper({ env, stateDir: root, entryScript });
    for (let i = 0; i < 30 && !reply; i++) {
      await sleep(50);
      reply = await hello(300);
    }
    if (!reply) return;
  }
  // The leases whose credential it lacks: named by the reaper itself, so this process reads
  // one verified lease file per credential rather than all of them (a reaper that has not read
  // its leases yet names none: read them all). A variable is read only where a lease jit
  // signed names it, whatever the socket asks for.
  const store = new LeaseStore(root);
  const files = new Set(names);
  const leases = reply.wants
    ? await Promise.all(reply.wants.filter((w) => files.has(`${w.id}.json`)).map((w) => store.get(w.id).catch(() => null)))
    : await store.list();
  const sent = new Set(reply.keys ?? []);
  for (const lease of leases) {
    if (!lease?.adminSource.startsWith('env:')) continue;
    const key = credentialKey(lease.database, lease.adminSource);
    const secret = env[lease.adminSource.slice('env:'.length)];
    if (sent.has(key) || !secret) continue;
    sent.add(key);
    await ask(root, { type: 'lease', id: lease.id, key, secret }, 1000).catch(() => {});
  }
}
