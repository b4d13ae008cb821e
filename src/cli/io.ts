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
}

/** Prompts need a person on both ends: a TTY for input and for the prompt itself (stderr). */
export function canPrompt(io: IO): boolean {
  return io.stdinIsTTY && io.stderrIsTTY;
}

export function systemIO(flags: { json?: boolean; quiet?: boolean; debug?: boolean; color?: boolean }, env: NodeJS.ProcessEnv): IO {
  const stderrIsTTY = Boolean(process.stderr.isTTY);
  const color = stderrIsTTY && flags.color !== false && !flags.json && env.NO_COLOR === undefined && env.TERM !== 'dumb';
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    stdinIsTTY: Boolean(process.stdin.isTTY),
    stdoutIsTTY: Boolean(process.stdout.isTTY),
    stderrIsTTY,
    color,
    json: Boolean(flags.json),
    quiet: Boolean(flags.quiet),
    debug: Boolean(flags.debug),
  };
}
