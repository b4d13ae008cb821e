/**
 * Stopping the detached jit reaper of a state directory, through jit's own client
 * (dist/reaper/reaper-client.js: one JSON line over the unix socket in $JIT_HOME).
 */
import { readFileSync } from 'node:fs';

const client = () => import('../../dist/reaper/reaper-client.js');

/** The reaper's pid, or null when nobody answers on the socket. */
export async function reaperPid(home) {
  const { ask } = await client();
  try {
    const reply = await ask(home, { type: 'hello' }, 1000);
    return reply.ok ? reply.pid : null;
  } catch {
    return null;
  }
}

/** Alive and not a zombie (a container's pid 1 may never reap the orphaned reaper). */
export function alive(pid) {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Ask the reaper to stop, wait for its process to end, SIGKILL it by pid after `graceMs`.
 * @returns {Promise<{pid: number | null, killed: boolean}>}
 */
export async function stopReaper(home, graceMs = 5000) {
  const pid = await reaperPid(home);
  if (pid === null) return { pid: null, killed: false };
  const { ask } = await client();
  await ask(home, { type: 'stop' }, 1000).catch(() => {});
  const end = Date.now() + graceMs;
  while (alive(pid) && Date.now() < end) await sleep(50);
  if (!alive(pid)) return { pid, killed: false };
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone meanwhile
  }
  return { pid, killed: true };
}
