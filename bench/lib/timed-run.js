/** Run a whole process and time it from spawn to exit, the way a shell user experiences it. */
import { spawn, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let ticksPerSecond;
/**
 * CPU time (user + sys, ms) of this process's reaped children, from /proc/self/stat (cutime,
 * cstime); null where there is no /proc. Runs are sequential, so the difference around one run is
 * that child's own CPU: a measure that other load on the machine barely moves, unlike wall time.
 * Detached grandchildren (jit's reaper) are reaped by init and never counted.
 */
export function childrenCpuMs() {
  try {
    ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state): cutime and cstime are fields 16 and 17
    return ((Number(fields[13]) + Number(fields[14])) * 1000) / ticksPerSecond;
  } catch {
    return null;
  }
}

/**
 * @param {string[]} argv  argv[0] is the executable
 * @param {{env?: NodeJS.ProcessEnv, cwd?: string, timeoutMs?: number}} [opts]
 * @returns {Promise<{ms: number, cpuMs: number | null, code: number | null, stdout: string, stderr: string}>}
 */
export function timedRun(argv, opts = {}) {
  return new Promise((resolve, reject) => {
    const cpuBefore = childrenCpuMs();
    const started = process.hrtime.bigint();
    const child = spawn(argv[0], argv.slice(1), { env: opts.env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 20_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    // The clock stops at 'exit' (the process is gone, as a shell sees it); the result waits for
    // 'close' so that stdout written just before exit is not lost.
    let ms = NaN;
    let code = null;
    child.on('exit', (c) => {
      ms = Number(process.hrtime.bigint() - started) / 1e6;
      code = c;
    });
    child.on('close', (c) => {
      clearTimeout(timer);
      const cpuAfter = childrenCpuMs();
      const cpuMs = cpuBefore === null || cpuAfter === null ? null : cpuAfter - cpuBefore;
      resolve({ ms, cpuMs, code: code ?? c, stdout, stderr });
    });
  });
}
