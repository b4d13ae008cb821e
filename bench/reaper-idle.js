#!/usr/bin/env node
/**
 * `node bench/reaper-idle.js` (after a build): the CPU an idle reaper uses while it watches 1000
 * leases that are not due (they point at a closed port and expire in 1 h). utime + stime from
 * /proc/<pid>/stat over ~20 s, next to an idle `node -e "setInterval(()=>{},1000)"` measured over
 * the same window. Target: < 0.5% of a core. A measurement, not a test: exit 0 whatever the
 * numbers, non-zero only when a run failed.
 */
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { alive, reaperPid, stopReaper } from './lib/reaper.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const JIT = join(ROOT, 'bin', 'jit.js');
const LEASES = 1000;
const WINDOW_MS = 20_000;
const TARGET_PCT = 0.5;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const hz = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
/** utime + stime of a process, in ms. */
const cpuMs = (pid) => {
  const rest = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(rest[11]) + Number(rest[12])) * 1000) / hz;
};

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function main() {
  if (!existsSync(join(ROOT, 'dist', 'main.js'))) throw new Error('dist/ is missing: run `npm run build` first');
  const work = await mkdtemp(join(tmpdir(), 'jit-bench-idle-'));
  const home = join(work, 'state');
  await mkdir(join(home, 'leases'), { recursive: true, mode: 0o700 });
  const closedPort = await freePort();
  const now = Date.now();
  for (let i = 0; i < LEASES; i++) {
    const id = `r${String(i).padStart(9, '0')}`;
    const lease = {
      id, database: 'bench', role: 'expiring', user: `jit_bench_${randomBytes(6).toString('hex')}`,
      target: { engine: 'postgres', host: '127.0.0.1', port: closedPort, database: 'app', tls: 'disable', adminUser: 'postgres' },
      adminSource: 'env:JIT_BENCH_ADMIN_PW', requester: 'bench', requesterHost: hostname(),
      createdAt: new Date(now).toISOString(), expiresAt: new Date(now + 3_600_000).toISOString(), maxExpiresAt: new Date(now + 3_600_000).toISOString(),
      clockSkewMs: 0, state: 'active', command: 'uri',
    };
    await writeFile(join(home, 'leases', `${id}.json`), `${JSON.stringify(lease, null, 2)}\n`, { mode: 0o600 });
  }
  const env = { PATH: process.env.PATH, HOME: work, JIT_HOME: home, JIT_BENCH_ADMIN_PW: 'unused' };
  const reaper = spawn(process.execPath, [JIT, '__reaper'], { env, stdio: 'ignore' });
  const baseline = spawn(process.execPath, ['-e', 'setInterval(()=>{},1000)'], { stdio: 'ignore' });
  try {
    for (let i = 0; i < 50 && (await reaperPid(home)) !== reaper.pid; i++) await sleep(100);
    if ((await reaperPid(home)) !== reaper.pid) throw new Error('the reaper did not come up');
    await sleep(3_000); // past start-up and the first full read
    const r0 = cpuMs(reaper.pid);
    const b0 = cpuMs(baseline.pid);
    const t0 = Date.now();
    await sleep(WINDOW_MS);
    if (!alive(reaper.pid)) throw new Error(`the reaper exited with ${LEASES} leases left`);
    const secs = (Date.now() - t0) / 1000;
    const reaperPct = ((cpuMs(reaper.pid) - r0) / 1000 / secs) * 100;
    const basePct = ((cpuMs(baseline.pid) - b0) / 1000 / secs) * 100;
    const ratio = basePct > 0 ? `${(reaperPct / basePct).toFixed(1)}x` : `n/a (the baseline used under one ${Math.round(1000 / hz)} ms tick; difference ${(reaperPct - basePct).toFixed(2)} points)`;
    console.log(`reaper idle CPU with ${LEASES} leases over ${secs.toFixed(1)} s: ${reaperPct.toFixed(2)}% of a core; idle node (1 s interval timer) ${basePct.toFixed(2)}%; ratio ${ratio}; target < ${TARGET_PCT}%: ${reaperPct < TARGET_PCT ? 'met' : 'MISSED'}  (clock ticks of ${Math.round(1000 / hz)} ms)`);
    return 0;
  } finally {
    await stopReaper(home).catch(() => {});
    if (reaper.exitCode === null && reaper.signalCode === null) reaper.kill('SIGKILL');
    baseline.kill('SIGKILL');
    await rm(work, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`error: ${err.message}\n`);
    process.exit(1);
  },
);
