#!/usr/bin/env node
/**
 * `npm run bench`: how long jit takes to start. `jit --help`, `jit list` (no leases) and
 * `jit __complete uri ''` (what Tab after `jit uri ` runs: the policy's database names, from the
 * validated policy jit caches in $JIT_HOME) as whole processes, each against a bare `node -e ''`
 * measured in the same run, interleaved so that a change in the machine's load moves all alike.
 * CPU (user + sys of the child) is the headline, as it is the measure other load barely moves;
 * wall time is printed beside it. The environment is a bare one for every variant (a
 * NODE_EXTRA_CA_CERTS alone adds ~50 ms to every node start and would flatter the ratios).
 * Target: <= 1.6x. A measurement, not a test: exit 0 whatever the numbers, non-zero only when a
 * run failed.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { timedRun } from './lib/timed-run.js';
import { mean, median } from './lib/stats.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const JIT = join(ROOT, 'bin', 'jit.js');
const TARGET = 1.6;
const RUNS = Number(process.env.BENCH_RUNS) || 40;
const POLICY = `version: 1
databases:
  prod-db:
    engine: postgres
    host: db.internal
    database: app
    admin: { user: jit_admin }
    roles:
      readonly:
        grants:
          - privileges: [SELECT]
            tables: [public.orders]
`;

async function main() {
  if (!existsSync(join(ROOT, 'dist', 'bundle', 'main.cjs'))) throw new Error('dist/bundle is missing: run `npm run build` first');
  const work = await mkdtemp(join(tmpdir(), 'jit-bench-start-'));
  await writeFile(join(work, 'policy.yaml'), POLICY);
  // An empty state directory and no policy anywhere: what `jit list` sees on a fresh machine.
  const env = { PATH: process.env.PATH, HOME: work, JIT_HOME: join(work, 'state'), XDG_CONFIG_HOME: join(work, 'config'), NO_COLOR: '1' };
  const variants = {
    node: { label: "node -e ''", argv: [process.execPath, '-e', ''] },
    help: { label: 'jit --help', argv: [process.execPath, JIT, '--help'] },
    list: { label: 'jit list', argv: [process.execPath, JIT, 'list'] },
    complete: { label: "jit __complete uri ''", argv: [process.execPath, JIT, '__complete', 'uri', ''], env: { JIT_POLICY: join(work, 'policy.yaml') } },
  };
  const wall = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  const cpu = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  try {
    // One warm-up round (disk cache), then RUNS interleaved rounds.
    for (let round = -1; round < RUNS; round++) {
      for (const [k, v] of Object.entries(variants)) {
        const r = await timedRun(v.argv, { env: { ...env, ...v.env }, cwd: work });
        if (r.code !== 0) throw new Error(`${v.label} exited ${r.code}: ${r.stderr.trim()}`);
        if (k === 'complete' && r.stdout !== 'prod-db\tpostgres db.internal:5432/app\n') throw new Error(`${v.label} printed ${JSON.stringify(r.stdout)}`);
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
    console.log(`  ${v.label.padEnd(22)} ${cpuCol.padEnd(28)} ${wallCol}`);
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
