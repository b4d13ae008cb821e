import type { SessionLimits } from '../../policy/types.js';
import { dollarQuote } from './postgres-sql.js';
import { escapeLiteral, ident } from './postgres-quote.js';

/** Raised in the mint transaction when the policy asks for transaction_timeout on a server older than 17. */
export const TRANSACTION_TIMEOUT_SQLSTATE = 'JIT04';

/** Milliseconds as the integer a time setting takes without a unit (ms): only digits reach the SQL. */
function msValue(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms <= 0) throw new Error(`not a positive whole number of milliseconds: ${ms}`);
  return String(ms);
}

/**
 * The login's session limits as role settings (ALTER ROLE … SET), run in the mint transaction:
 * every session of the login starts with them. They are defaults, not ceilings: all three are
 * user-settable, so a session can `SET statement_timeout = 0` for itself.
 * idle_timeout sets both idle_session_timeout (14+: idle outside a transaction) and
 * idle_in_transaction_session_timeout (a session holding locks and a snapshot while it waits).
 * transaction_timeout exists from PostgreSQL 17: on an older server the mint fails, and rolls
 * back, with TRANSACTION_TIMEOUT_SQLSTATE rather than a bare "unrecognized configuration parameter".
 */
export function sessionLimitsSql(login: string, limits: SessionLimits | undefined): string[] {
  if (!limits) return [];
  const role = ident(login);
  const set = (name: string, ms: number) => `ALTER ROLE ${role} SET ${name} = ${msValue(ms)}`;
  const out: string[] = [];
  if (limits.statementTimeoutMs !== undefined) out.push(set('statement_timeout', limits.statementTimeoutMs));
  if (limits.idleTimeoutMs !== undefined) {
    out.push(set('idle_session_timeout', limits.idleTimeoutMs), set('idle_in_transaction_session_timeout', limits.idleTimeoutMs));
  }
  if (limits.transactionTimeoutMs !== undefined) {
    const refuse =
      `BEGIN IF pg_catalog.current_setting('server_version_num')::int < 170000 THEN ` +
      `RAISE EXCEPTION 'transaction_timeout needs PostgreSQL 17 or later; this server is %', pg_catalog.current_setting('server_version') ` +
      `USING ERRCODE = ${escapeLiteral(TRANSACTION_TIMEOUT_SQLSTATE)}; END IF; END`;
    out.push(`DO ${dollarQuote(refuse)}`, set('transaction_timeout', limits.transactionTimeoutMs));
  }
  return out;
}
