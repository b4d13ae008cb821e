/**
 * Where a driver error happened, for the messages an engine's `<engine>-errors.ts` writes: which
 * server, which user and which step.
 */
export interface ServerErrorContext {
  host: string;
  port: number;
  user: string;
  database: string;
  /** `connect` errors talk about the admin login; the others about the statement. */
  phase: 'connect' | 'mint' | 'revoke' | 'extend' | 'query';
  login?: string;
  /** The policy's name for the database, so hints name the exact command to run. */
  name?: string;
}
