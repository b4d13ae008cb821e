#!/usr/bin/env node
/**
 * `npm run bench`: how long jit takes to start. `jit --help`, `jit list` (no leases, no policy) and
 * `jit __complete` (what a Tab press runs) as whole processes, each against a bare `node -e ''`
 * measured in the same run, interleaved so that a change in the machine's load moves both.
 * CPU (user + sys of the child) is the headline, as it is the measure other load barely moves;
 * wall time is printed beside it. Target: <= 1.6x. A measurement, not a test: exit 0 whatever the
 * numbers, non-zero only when a run failed.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { timedRun } from './lib/timed-run.js';
import { mean, median } from './lib/stats.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const JIT = join(ROOT, 'bin', 'jit.js');
const TARGET = 1.6;
const RUNS = Number(process.env.BENCH_RUNS) || 40;

async function main() {
  if (!existsSync(join(ROOT, 'dist', 'bundle', 'main.cjs'))) throw new Error('dist/bundle is missing: run `npm run build` first');
  const work = await mkdtemp(join(tmpdir(), 'jit-bench-start-'));
  // An empty state directory and no policy anywhere: what `jit list` sees on a fresh machine.
  const env = { PATH: process.env.PATH, HOME: work, JIT_HOME: join(work, 'state'), XDG_CONFIG_HOME: join(work, 'config'), NO_COLOR: '1' };
  const variants = {
    node: { label: "node -e ''", argv: [process.execPath, '-e', ''] },
    help: { label: 'jit --help', argv: [process.execPath, JIT, '--help'] },
    list: { label: 'jit list', argv: [process.execPath, JIT, 'list'] },
    complete: { label: 'jit __complete ""', argv: [process.execPath, JIT, '__complete', ''] },
  };
  const wall = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  const cpu = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  try {
    // One warm-up round (disk cache), then RUNS interleaved rounds.
    for (let round = -1; round < RUNS; round++) {
      for (const [k, v] of Object.entries(variants)) {
        const r = await timedRun(v.argv, { env, cwd: work });
        if (r.code !== 0) throw new Error(`${v.label} exited ${r.code}: ${r.stderr.trim()}`);
        if (round < 0) continue;
        wall[k].push(r.ms);
        if (r.cpuMs !== null) cpu[k].push(r.cpuMs);
      }
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  const ms = (v) => `${Math.round(v)} ms`;
  const hasCpu = cpu.node.length > 0;
  console.log(`\nCLI start-up against ${variants.node.label} (n=${RUNS} each, interleaved; target <= ${TARGET.toFixed(2)}x)`);
  for (const [k, v] of Object.entries(variants)) {
    const cpuCol = hasCpu ? `cpu ${ms(mean(cpu[k])).padStart(6)}${k === 'node' ? '' : `  ratio ${(mean(cpu[k]) / mean(cpu.node)).toFixed(2)}x`}` : '';
    const wallCol = `wall median ${ms(median(wall[k])).padStart(6)}${k === 'node' ? '' : `  ratio ${(median(wall[k]) / median(wall.node)).toFixed(2)}x`}`;
    console.log(`  ${v.label.padEnd(20)} ${cpuCol.padEnd(28)} ${wallCol}`);
  }
  console.log('');
}

main().then(
  () => (process.exitCode = 0),
  (err) => {
    console.error(`error: ${err.message}`);
    process.exitCode = 1;
  },
);
