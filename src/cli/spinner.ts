import type { IO } from './io.js';

export interface Spinner {
  stop(): void;
}

const DELAY_MS = 250;

/**
 * An ora spinner on stderr for a person at a colour terminal — only if the work is still going
 * after a moment: a fast mint shows nothing and never loads ora. A terminal that reports no
 * width gets none (ora's clear loop never ends on a width of 0). stdin stays as it is (no raw
 * mode): Ctrl-C then reaches jit as the terminal's SIGINT, which the mint turns into a cancel.
 */
export function spin(io: IO, text: string): Spinner {
  const columns = (io.stderr as { columns?: number }).columns ?? 0;
  if (!io.color || io.quiet || io.json || columns <= 0) return { stop() {} };
  let stopped = false;
  let spinner: { stop(): void } | undefined;
  const timer = setTimeout(() => {
    void import('ora').then(({ default: ora }) => {
      if (!stopped) spinner = ora({ text, stream: io.stderr as NodeJS.WritableStream, discardStdin: false }).start();
    });
  }, DELAY_MS);
  timer.unref();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
      spinner?.stop();
    },
  };
}
