#!/usr/bin/env node
/**
 * `node bench/validate.js` (after `npm run build`): policy validation time as the policy grows.
 * Validation must be linear in the number of names: a 4× larger policy should take about 4× as
 * long. Prints the ratio of medians for each size against the smallest, measured in this run.
 * A measurement, not a test: exit 0 whatever the ratios.
 *
 * Shapes: `tables` (N table names, 1000 per grant, 50 grants per role) and `roles` (N roles of one
 * table each: one large mapping, where duplicate-key checks could go quadratic).
 */
import { parsePolicy } from '../dist/policy/parse.js';

const SIZES = [2_500, 5_000, 10_000];
const ROUNDS = 5;

function tablesPolicy(n) {
  const lines = ['version: 1', 'databases:', '  d:', '    engine: postgres', '    host: h', '    database: app', '    admin:', '      user: jit_admin', '    roles:'];
  let role = -1;
  for (let g = 0; g * 1000 < n; g++) {
    if (g % 50 === 0) lines.push(`      r${++role}:`, '        grants:');
    lines.push('          - privileges: [SELECT]', '            tables:');
    for (let i = g * 1000; i < Math.min(n, (g + 1) * 1000); i++) lines.push(`              - s.t${i}`);
  }
  return lines.join('\n') + '\n';
}

function rolesPolicy(n) {
  const lines = ['version: 1', 'databases:', '  d:', '    engine: postgres', '    host: h', '    database: app', '    admin:', '      user: jit_admin', '    roles:'];
  for (let i = 0; i < n; i++) lines.push(`      r${i}:`, `        grants: [{privileges: [SELECT], tables: [t${i}]}]`);
  return lines.join('\n') + '\n';
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

for (const [shape, make] of [['tables', tablesPolicy], ['roles', rolesPolicy]]) {
  const texts = SIZES.map((n) => make(n));
  const times = SIZES.map(() => []);
  parsePolicy(texts[0], 'warmup.yaml');
  for (let round = 0; round < ROUNDS; round++) {
    texts.forEach((text, i) => {
      const t0 = process.hrtime.bigint();
      parsePolicy(text, 'bench.yaml');
      times[i].push(Number(process.hrtime.bigint() - t0) / 1e6);
    });
  }
  const base = median(times[0]);
  for (let i = 0; i < SIZES.length; i++) {
    const m = median(times[i]);
    const bytes = Buffer.byteLength(texts[i]);
    console.log(`${shape.padEnd(6)} n=${String(SIZES[i]).padStart(6)}  ${String(bytes).padStart(8)} B  median ${m.toFixed(1).padStart(8)} ms  ×${(m / base).toFixed(2)} for ×${SIZES[i] / SIZES[0]} input`);
  }
}
