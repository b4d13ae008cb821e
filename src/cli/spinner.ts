import type { IO } from './io.js';

export interface Spinner {
  succeed(text?: string): void;
  fail(text?: string): void;
  stop(): void;
}

const silent: Spinner = { succeed() {}, fail() {}, stop() {} };

/** An ora spinner on stderr, only for a person at a colour TTY; ora is loaded only then. */
export async function spin(io: IO, text: string): Promise<Spinner> {
  if (!io.color || io.quiet || io.json) return silent;
  const { default: ora } = await import('ora');
  const s = ora({ text, stream: io.stderr as NodeJS.WritableStream }).start();
  return {
    succeed: (t?: string) => s.succeed(t),
    fail: (t?: string) => s.fail(t),
    stop: () => s.stop(),
  };
}
