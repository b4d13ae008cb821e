/** Run a whole process and time it from spawn to exit, the way a shell user experiences it. */
import { spawn } from 'node:child_process';

/**
 * @param {string[]} argv  argv[0] is the executable
 * @param {{env?: NodeJS.ProcessEnv, cwd?: string, timeoutMs?: number}} [opts]
 * @returns {Promise<{ms: number, code: number | null, stdout: string, stderr: string}>}
 */
export function timedRun(argv, opts = {}) {
  return new Promise((resolve, reject) => {
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
      resolve({ ms, code: code ?? c, stdout, stderr });
    });
  });
}
