/** Order statistics for benchmark samples (ms). */

/** Nearest-rank percentile, p in [0, 100]. */
export function percentile(samples, p) {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

/** The median, averaging the two middle samples of an even count. */
export function median(samples) {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The mean: for CPU ticks, whose 10 ms quantisation only averages out. */
export function mean(samples) {
  return samples.length === 0 ? NaN : samples.reduce((a, b) => a + b, 0) / samples.length;
}

/** `median 142 ms, p90 151 ms, min 133 ms (n=30)` */
export function summary(samples) {
  const ms = (v) => `${Math.round(v)} ms`;
  return `median ${ms(median(samples))}, p90 ${ms(percentile(samples, 90))}, min ${ms(Math.min(...samples))} (n=${samples.length})`;
}
