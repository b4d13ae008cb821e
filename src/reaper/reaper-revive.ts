import { readdir } from 'node:fs/promises';
import { LeaseStore } from '../leases/lease-store.js';
import { stateDir, statePaths } from '../leases/paths.js';
import { ask, spawnReaper } from './reaper-client.js';
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
  let held: string[] | null = null;
  try {
    const reply = await ask(root, { type: 'hello' }, 1000);
    if (reply.ok) held = reply.keys ?? [];
  } catch {
    // nobody answers
  }
  if (held === null) {
    spawnReaper({ env, stateDir: root, entryScript });
    for (let i = 0; i < 30 && held === null; i++) {
      await sleep(50);
      held = await ask(root, { type: 'hello' }, 300).then((r) => (r.ok ? (r.keys ?? []) : null), () => null);
    }
    if (held === null) return;
  }
  const sent = new Set(held);
  for (const lease of await new LeaseStore(root).list()) {
    if (!lease.adminSource.startsWith('env:')) continue;
    const key = credentialKey(lease.database, lease.adminSource);
    const secret = env[lease.adminSource.slice('env:'.length)];
    if (sent.has(key) || !secret) continue;
    sent.add(key);
    await ask(root, { type: 'lease', id: lease.id, key, secret }, 1000).catch(() => {});
  }
}
