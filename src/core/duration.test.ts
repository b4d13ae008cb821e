import { describe, expect, it } from 'vitest';
import { parseDuration, tryParseDuration } from './duration.js';

describe('durations as users type them', () => {
  it('units in either case', () => {
    expect(tryParseDuration('1H')).toBe(3_600_000);
    expect(tryParseDuration('90M')).toBe(5_400_000);
    expect(tryParseDuration('1H30M')).toBe(5_400_000);
    expect(tryParseDuration('2D')).toBe(172_800_000);
    expect(tryParseDuration('45S')).toBe(45_000);
  });

  it('decimal amounts that come to whole seconds, summed exactly', () => {
    expect(tryParseDuration('1.5h')).toBe(5_400_000);
    expect(tryParseDuration('0.5m')).toBe(30_000);
    expect(tryParseDuration('.5h')).toBe(1_800_000);
    expect(tryParseDuration('0.1h')).toBe(360_000);
    expect(tryParseDuration('1.15h')).toBe(4_140_000);
    expect(tryParseDuration('1.5h30m')).toBe(7_200_000);
    expect(tryParseDuration(' 90m ')).toBe(5_400_000);
  });

  it('says why what it refuses is refused', () => {
    expect(() => parseDuration('1.5s')).toThrowError('--ttl "1.5s" is not a whole number of seconds');
    expect(() => parseDuration('0.01m')).toThrowError(/is not a whole number of seconds/);
    expect(() => parseDuration('90')).toThrowError('--ttl "90" has no unit');
    try {
      parseDuration('90');
    } catch (e) {
      expect((e as { hint?: string }).hint).toBe('add one: 90s, 90m or 90h');
      expect((e as { exitCode?: number }).exitCode).toBe(2);
    }
    expect(() => parseDuration('0h')).toThrowError('--ttl "0h" is zero');
    for (const bad of ['1 hour', '1h 30m', '10ms', '1e3s', '-5m', '1.h', '1..5h', 'h', '1,5h']) expect(tryParseDuration(bad)).toBeNull();
  });
});
