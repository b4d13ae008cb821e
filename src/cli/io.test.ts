import { describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import { canPrompt, promptsDisabled, type IO } from './io.js';

const tty = (extra: Partial<IO> = {}): IO => ({
  stdout: { write: () => true },
  stderr: { write: () => true },
  stdin: new PassThrough(),
  stdinIsTTY: true,
  stdoutIsTTY: true,
  stderrIsTTY: true,
  color: false,
  json: false,
  quiet: false,
  debug: false,
  ...extra,
});

describe('JIT_NO_PROMPT', () => {
  it('turns prompts off on a terminal', () => {
    expect(canPrompt(tty())).toBe(true);
    expect(canPrompt(tty({ noPrompt: true }))).toBe(false);
  });

  it('is on for any value but empty, 0 or false', () => {
    for (const v of ['1', 'true', 'yes', 'TRUE']) expect(promptsDisabled({ JIT_NO_PROMPT: v })).toBe(true);
    for (const v of [undefined, '', '0', 'false', 'False']) expect(promptsDisabled({ JIT_NO_PROMPT: v })).toBe(false);
  });
});
