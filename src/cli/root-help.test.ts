import { afterEach, describe, expect, it, vi } from 'vitest';
import { rootHelp } from './root-help.js';
import { runProgram } from './program.js';

/** What commander prints for `jit --help` on a terminal `width` columns wide. */
async function commanderHelp(width: number | undefined): Promise<string> {
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += String(s)), true));
  try {
    expect(await runProgram(['--help'], {}, { entryScript: '', cwd: '/', helpWidth: width, run: async () => 0 })).toBe(0);
  } finally {
    spy.mockRestore();
  }
  return out;
}

afterEach(() => vi.restoreAllMocks());

describe('jit --help without commander', () => {
  it.each([undefined, 20, 39, 40, 60, 79, 80, 81, 90, 100, 120, 132, 160, 200, 300])('is what commander prints at width %s', async (width) => {
    expect(rootHelp(width ?? 80)).toBe(await commanderHelp(width));
  });
});
