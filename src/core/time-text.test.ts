import { describe, expect, it } from 'vitest';
import { relative, untilText } from './time-text.js';

describe('untilText', () => {
  const local = new Date(2026, 11, 2, 15, 0, 0).getTime();
  it('shows the local wall-clock time and the time left, the same for every command', () => {
    expect(untilText(new Date(local + 10 * 60_000).toISOString(), local, local)).toBe('until 15:10:00 (in 10m00s)');
  });
  it('places the expiry on the local clock when the server clock is off', () => {
    // The server is 30 s ahead: its expiry 10 min after its now is 10 min after local now.
    const server = local + 30_000;
    expect(untilText(new Date(server + 600_000).toISOString(), server, local)).toBe('until 15:10:00 (in 10m00s)');
  });
  it('adds the date when it is not today', () => {
    expect(untilText(new Date(local + 26 * 3_600_000).toISOString(), local, local)).toBe('until 2026-12-03 17:00:00 (in 26h00m)');
  });
  it('says how long ago for the past', () => {
    expect(relative(new Date(local - 12_000).toISOString(), local)).toBe('12s ago');
  });
});
