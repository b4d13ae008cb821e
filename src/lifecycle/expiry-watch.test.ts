import { describe, expect, it } from 'vitest';
import { plannedWarnings } from './expiry-watch.js';

describe('plannedWarnings', () => {
  it('warns at 5 min, 1 min and 10 s before expiry, each only with as much time again before it', () => {
    expect(plannedWarnings(15 * 60_000)).toEqual([300_000, 60_000, 10_000]);
    expect(plannedWarnings(9 * 60_000)).toEqual([60_000, 10_000]);
    expect(plannedWarnings(2 * 60_000)).toEqual([60_000, 10_000]);
    expect(plannedWarnings(25_000)).toEqual([10_000]);
    expect(plannedWarnings(5_000)).toEqual([]);
  });
});
