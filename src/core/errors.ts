/** Exit codes jit uses (DESIGN §1). */
export const EXIT = { ok: 0, runtime: 1, usage: 2, cancelled: 130 } as const;
/** 0, 1, 2, 130 — or a child's code (127 when it cannot be started). */
export type ExitCode = number;

export interface JitErrorOptions {
  /** One line naming the command or flag that fixes it. */
  hint?: string;
  /** 2 for usage/policy errors, 1 for runtime failures (default), 130 for a cancelled prompt. */
  exitCode?: ExitCode;
  cause?: unknown;
}

/** An error a user can cause: one sentence, an optional hint, a chosen exit code. */
export class JitError extends Error {
  readonly hint?: string;
  readonly exitCode: ExitCode;

  constructor(message: string, options: JitErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'JitError';
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? EXIT.runtime;
  }
}

/** A usage or policy error: exit 2, nothing executed. */
export function usageError(message: string, hint?: string): JitError {
  return new JitError(message, { hint, exitCode: EXIT.usage });
}

/** A runtime failure (server down, keychain locked, …): exit 1. */
export function runtimeError(message: string, hint?: string, cause?: unknown): JitError {
  return new JitError(message, { hint, exitCode: EXIT.runtime, cause });
}

export function isJitError(err: unknown): err is JitError {
  return err instanceof JitError;
}
