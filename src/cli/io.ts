import { isatty } from 'node:tty';
import type { Readable } from 'node:stream';

export interface Output {
  write(chunk: string): unknown;
}

/** Streams and terminal facts. stdout carries data only; people-facing text goes to stderr. */
export interface IO {
  stdout: Output;
  stderr: Output;
  stdin: Readable;
  stdinIsTTY: boolean;
  stdoutIsTTY: boolean;
  stderrIsTTY: boolean;
  /** Colour and spinners on stderr. Off with --no-color, NO_COLOR, --json, or no TTY. */
  color: boolean;
  json: boolean;
  quiet: boolean;
  debug: boolean;
  /** `JIT_NO_PROMPT=1` (like `GH_PROMPT_DISABLED`): never ask, even on a terminal; a missing flag is then an error. */
  noPrompt?: boolean;
}

/** Prompts need a person on both ends: a TTY for input and for the prompt itself (stderr). */
export function canPrompt(io: IO): boolean {
  return !io.noPrompt && io.stdinIsTTY && io.stderrIsTTY;
}

/** Whether `JIT_NO_PROMPT` turns prompts off: any value but empty, `0` or `false`. */
export function promptsDisabled(env: NodeJS.ProcessEnv): boolean {
  const v = env.JIT_NO_PROMPT?.trim().toLowerCase();
  return v !== undefined && v !== '' && v !== '0' && v !== 'false';
}

export function systemIO(flags: { json?: boolean; quiet?: boolean; debug?: boolean; color?: boolean }, env: NodeJS.ProcessEnv): IO {
  const stderrIsTTY = Boolean(process.stderr.isTTY);
  const color = stderrIsTTY && flags.color !== false && !flags.json && env.NO_COLOR === undefined && env.TERM !== 'dumb';
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    // process.stdin is built on first use (a stream over a pipe or a terminal, ~1 ms): most
    // commands never read it, and isatty(0) says what they need to know.
    get stdin() {
      return process.stdin;
    },
    stdinIsTTY: isatty(0),
    stdoutIsTTY: Boolean(process.stdout.isTTY),
    stderrIsTTY,
    color,
    json: Boolean(flags.json),
    quiet: Boolean(flags.quiet),
    debug: Boolean(flags.debug),
    noPrompt: promptsDisabled(env),
  };
}
