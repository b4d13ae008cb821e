/** The text the mint benchmarks print: the headline ratio first, then every variant. */
import { mean, median, summary } from './stats.js';

/**
 * @param {object} r
 * @param {Record<string, {label: string, ratio: boolean, note?: string}>} r.variants  in print order; must hold `jit` and `bare`
 * @param {Record<string, number[]>} r.wall  wall ms per variant
 * @param {Record<string, number[]>} r.cpu   own CPU ms per variant (may be empty)
 * @param {number} r.target  the ratio the project aims for
 * @param {string[]} r.notes  trailing lines
 */
export function formatReport({ variants, wall, cpu, target, notes }) {
  const med = (k) => median(wall[k]);
  const ratio = (k) => med(k) / med('bare');
  const ms = (v) => `${Math.round(v)} ms`;
  const has = (k) => wall[k]?.length > 0;
  const lines = [
    '',
    `jit uri: median ${ms(med('jit'))}, ${variants.bare.label}: median ${ms(med('bare'))}, ratio ${ratio('jit').toFixed(2)}x (target <= ${target.toFixed(2)}x)`,
  ];
  if (cpu.jit?.length && cpu.bare?.length) {
    lines.push(
      `cpu per run (the process's own user+sys; less moved by other load than wall time): jit ${ms(mean(cpu.jit))}, bare ${ms(mean(cpu.bare))}, ` +
        `ratio ${(mean(cpu.jit) / mean(cpu.bare)).toFixed(2)}x`,
    );
  }
  lines.push('');
  for (const [k, v] of Object.entries(variants)) {
    if (!has(k)) continue;
    const cpuCol = cpu[k]?.length ? `  cpu ${ms(mean(cpu[k]))}` : '';
    const ratioCol = v.ratio ? `  ratio ${ratio(k).toFixed(2)}x` : '';
    lines.push(`  ${v.label.padEnd(26)} ${summary(wall[k])}${cpuCol}${ratioCol}${v.note ? `  ${v.note}` : ''}`);
  }
  const diff = (a, b) => (has(a) && has(b) ? ms(med(a) - med(b)) : '-');
  lines.push(
    '',
    `  jit over bare: ${diff('jit', 'bare')}; reaper handoff (warm): ${diff('jit', 'noReaper')}; ` +
      `first use over warm: ${diff('cold', 'jit')}; reaper gone over warm (spawning it): ${diff('restart', 'jit')}; node start-up alone: ${has('node') ? ms(med('node')) : '-'}`,
    ...notes.map((n) => `  ${n}`),
    '',
  );
  return lines.join('\n');
}
