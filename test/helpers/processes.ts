/** Processes of a test's state directory, found through /proc (Linux, tests only). */
import { readdirSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A process that exited is a zombie until its parent (init, for a detached reaper) collects it.
  try {
    return !/^\d+ \(.*\) Z/s.test(readFileSync(`/proc/${pid}/stat`, 'latin1'));
  } catch {
    return false;
  }
}

/**
 * Pids of live processes whose environment carries JIT_HOME=home (jit, its reaper, its psql), or,
 * with `{ under: true }`, a JIT_HOME anywhere below home.
 */
export function processesOfHome(home: string, opts: { under?: boolean } = {}): number[] {
  const needle = opts.under ? `JIT_HOME=${home}/` : `JIT_HOME=${home}\0`;
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue; // a zombie is not running
      if (readFileSync(`/proc/${name}/environ`, 'latin1').includes(needle)) pids.push(Number(name));
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return pids;
}

/**
 * SIGKILL every process of the home and wait until none is left: a reaper that a failed command
 * started a moment ago does not answer on its socket yet, and would write into the directory
 * while it is being removed.
 */
export async function killProcessesOfHome(home: string, opts: { under?: boolean } = {}, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const pids = processesOfHome(home, opts);
    if (pids.length === 0) return;
    if (Date.now() > end) throw new Error(`processes of ${home} still running: ${pids.join(', ')}`);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Remove a test's directory once no jit process (a reaper above all) of a state directory in it runs. */
export async function removeTestDir(dir: string): Promise<void> {
  await killProcessesOfHome(dir, { under: true });
  await rm(dir, { recursive: true, force: true });
}
