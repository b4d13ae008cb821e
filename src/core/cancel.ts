import { EXIT, JitError } from './errors.js';

/** The signals that mean "stop" from a person (Ctrl-C), a supervisor or a closed terminal. */
export const CANCEL_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** What a cancelled command ends with: one `error:` line, exit 130. */
export function cancelledError(what = 'cancelled'): JitError {
  return new JitError(what, { exitCode: EXIT.cancelled });
}

export interface CancelScope {
  /** Aborted at the first signal; its reason is the signal's name. */
  readonly signal: AbortSignal;
  /** Stop listening: from here on the signals do what they did before. */
  close(): void;
}

/**
 * While the scope is open, SIGINT, SIGTERM and SIGHUP abort its signal instead of killing the
 * process, so the work in progress can undo what it did. Later signals are absorbed: a second
 * Ctrl-C must not interrupt the clean-up half-way (that is the moment a login would be left behind).
 */
export function cancelOnSignals(signals: readonly NodeJS.Signals[] = CANCEL_SIGNALS): CancelScope {
  const controller = new AbortController();
  const handler = (sig: NodeJS.Signals) => {
    if (!controller.signal.aborted) controller.abort(sig);
  };
  for (const s of signals) process.on(s, handler);
  let open = true;
  return {
    signal: controller.signal,
    close() {
      if (!open) return;
      open = false;
      for (const s of signals) process.off(s, handler);
    },
  };
}

/**
 * `work`, unless `signal` aborts first: then a cancelled error at once, and `late` receives what
 * `work` still produces (to close a connection that was being opened).
 */
export function unlessAborted<T>(work: Promise<T>, signal: AbortSignal, late?: (value: T) => unknown): Promise<T> {
  if (signal.aborted) {
    void work.then((v) => late?.(v), () => {});
    return Promise.reject(cancelledError());
  }
  return new Promise<T>((resolve, reject) => {
    let done = false;
    const onAbort = () => {
      if (done) return;
      done = true;
      void work.then((v) => late?.(v), () => {});
      reject(cancelledError());
    };
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        if (done) return;
        done = true;
        resolve(v);
      },
      (err) => {
        signal.removeEventListener('abort', onAbort);
        if (done) return;
        done = true;
        reject(signal.aborted ? cancelledError() : err);
      },
    );
  });
}
