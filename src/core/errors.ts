/** Exit codes jit uses (DESIGN §1). */
export const EXIT = { ok: 0, runtime: 1, usage: 2, cancelled: 130 } as const;
/** 0, 1, 2, 130 — or a child's code (127 when it cannot be started). */
export type ExitCode = number;

/**
 * What went wrong with a server, independent of the engine: set only where an engine translates
 * its driver's errors (src/engines/<engine>/<engine>-errors.ts), read everywhere else.
 */
export type ServerErrorKind =
  /** The server refused the admin's credential. */
  | 'admin-auth'
  /** No server answered (refused, timed out, unknown host). */
  | 'unreachable'
  /** TLS could not be set up or the certificate did not verify. */
  | 'tls'
  /** A table, schema, role or database named by the policy does not exist. */
  | 'missing-object'
  /** Another actor changed the same object at the same time (a name taken, a concurrent revoke). */
  | 'conflict';

export interface JitErrorOptions {
  /** One line naming the command or flag that fixes it. */
  hint?: string;
  /** 2 for usage/policy errors, 1 for runtime failures (default), 130 for a cancelled prompt. */
  exitCode?: ExitCode;
  cause?: unknown;
  kind?: ServerErrorKind;
}

/** An error a user can cause: one sentence, an optional hint, a chosen exit code. */
export class JitError extends Error {
  readonly hint?: string;
  readonly exitCode: ExitCode;
  readonly kind?: ServerErrorKind;

  constructor(message: string, options: JitErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'JitError';
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? EXIT.runtime;
    if (options.kind) this.kind = options.kind;
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

/** Whether err is a translated server error of this kind. */
export function isServerError(err: unknown, kind: ServerErrorKind): boolean {
  return isJitError(err) && err.kind === kind;
}
