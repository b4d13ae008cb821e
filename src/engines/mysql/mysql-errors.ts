import { EXIT, JitError, isJitError, type ServerErrorKind } from '../../core/errors.js';
import { redact } from '../../core/redact.js';
import type { ServerErrorContext } from '../error-context.js';

export type MysqlErrorContext = ServerErrorContext;

/** What mysql2 errors (and node:net/tls errors) carry. */
interface DriverError {
  code?: string;
  errno?: number;
  sqlState?: string;
  sqlMessage?: string;
  message?: string;
  errors?: DriverError[];
}

const CERT_CODES = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_TLS|ERR_SSL|HANDSHAKE_NO_SSL_SUPPORT/;
const doctor = (name = 'DB') => `run 'jit doctor ${name}' to see what the admin account needs`;

/** The driver's symbolic code (`ER_NO_SUCH_TABLE`, `ECONNREFUSED`), also from an AggregateError. */
export function errorCode(err: unknown): string | undefined {
  const e = err as DriverError | undefined;
  return e?.code ?? e?.errors?.find((x) => x?.code)?.code;
}

/** The server's error number (1146…), when the server sent one. */
export function errorNumber(err: unknown): number | undefined {
  const n = (err as DriverError | undefined)?.errno;
  return typeof n === 'number' && n >= 1000 ? n : undefined;
}

/** One line, secrets removed. */
export function oneLine(err: unknown): string {
  const e = err as DriverError | undefined;
  const text = e?.sqlMessage || e?.message || e?.errors?.[0]?.message || String(err);
  return redact(text.replace(/\s+/g, ' ').trim());
}

/** `message (1146)`: what revocation reports for a failed step. */
export function stepMessage(err: unknown): string {
  const n = errorNumber(err);
  return `${oneLine(err)}${n ? ` (${n})` : errorCode(err) && !isJitError(err) ? ` (${errorCode(err)})` : ''}`;
}

// Server error numbers (include/mysqld_error.h; MariaDB's additions where they differ).
export const ER = {
  DBACCESS_DENIED: 1044,
  ACCESS_DENIED: 1045,
  BAD_DB: 1049,
  DUP_ENTRY: 1062,
  NO_SUCH_THREAD: 1094,
  HOST_NOT_PRIVILEGED: 1130,
  PASSWORD_NO_MATCH: 1133,
  TABLEACCESS_DENIED: 1142,
  NO_SUCH_TABLE: 1146,
  NONEXISTING_GRANT: 1141,
  TOO_MANY_USER_CONNECTIONS: 1203,
  LOCK_WAIT_TIMEOUT: 1205,
  LOCK_DEADLOCK: 1213,
  SPECIFIC_ACCESS_DENIED: 1227,
  CANNOT_USER: 1396,
  EVENT_DOES_NOT_EXIST: 1539,
  TOO_MANY_CONNECTIONS: 1040,
  /** MariaDB: "Invalid role specification". */
  INVALID_ROLE: 1959,
  /** MySQL 8: "Unknown authorization ID". */
  UNKNOWN_AUTHID: 3523,
  ACCOUNT_LOCKED: 4151,
  /** MySQL 8: account locked. */
  MYSQL_ACCOUNT_LOCKED: 3118,
} as const;

/** Translate a mysql2 error into a JitError, once, at the engine boundary. */
export function translateMysqlError(err: unknown, ctx: MysqlErrorContext): JitError {
  if (isJitError(err)) return err;
  const code = errorCode(err);
  const errno = errorNumber(err);
  const msg = oneLine(err);
  const at = `${ctx.host.includes(':') ? `[${ctx.host}]` : ctx.host}:${ctx.port}`;
  const name = ctx.name ?? 'DB';
  const make = (message: string, hint?: string, exitCode: 1 | 2 = EXIT.runtime, kind?: ServerErrorKind) =>
    new JitError(redact(message), { hint: hint && redact(hint), exitCode, cause: err, ...(kind ? { kind } : {}) });

  switch (errno) {
    case ER.ACCESS_DENIED:
      return ctx.phase === 'connect'
        ? make(
            `admin login to ${at} as ${ctx.user} failed: access denied${seenAs(msg, ctx.user)}`,
            `check the credential with 'jit admin test ${name}' or store it with 'jit admin set ${name}'`,
            EXIT.runtime,
            'admin-auth',
          )
        : make(`the admin account ${ctx.user} was refused on ${at}: ${msg}`, doctor(ctx.name));
    case ER.HOST_NOT_PRIVILEGED:
      return make(`admin login to ${at} as ${ctx.user} was refused: ${msg}`, `create ${ctx.user} for the host jit connects from (or '%')`, EXIT.runtime, 'admin-auth');
    case ER.ACCOUNT_LOCKED:
    case ER.MYSQL_ACCOUNT_LOCKED:
      return make(`admin login to ${at} as ${ctx.user} was refused: the account is locked`, `ALTER USER ${ctx.user} ACCOUNT UNLOCK, as a DBA`, EXIT.runtime, 'admin-auth');
    case ER.BAD_DB:
      return ctx.phase === 'connect'
        ? make(`schema ${ctx.database} does not exist on ${at}`, "check 'database:' in the policy", EXIT.usage, 'missing-object')
        : make(`the policy names a schema that does not exist on ${at}: ${msg}`, 'fix the grants in the policy or create the schema', EXIT.usage, 'missing-object');
    case ER.NO_SUCH_TABLE:
      return make(`the policy names a table that does not exist on ${at}: ${msg}`, 'fix the grants in the policy or create the table', EXIT.usage, 'missing-object');
    case ER.INVALID_ROLE:
    case ER.UNKNOWN_AUTHID:
      return ctx.phase === 'mint'
        ? make(`the policy names a role that does not exist on ${at}: ${msg}`, 'create the role or remove it from member_of', EXIT.usage, 'missing-object')
        : make(`${msg} on ${at}`, 'the login may already be revoked; see `jit list --all`', EXIT.runtime, 'missing-object');
    case ER.EVENT_DOES_NOT_EXIST:
      return make(`${msg} on ${at}`, 'the login may already be revoked or expired; see `jit list --all`', EXIT.runtime, 'missing-object');
    case ER.CANNOT_USER:
      return ctx.phase === 'mint'
        ? make(`an account named ${ctx.login ?? '?'} already exists on ${at}`, 'retry: a new login name is drawn each time', EXIT.runtime, 'conflict')
        : make(`${msg} on ${at}`, 'retry the command', EXIT.runtime, 'conflict');
    case ER.DUP_ENTRY:
      return make(`the jit ledger on ${at} already has a row for ${ctx.login ?? 'this login'}`, 'retry: a new login name is drawn each time', EXIT.runtime, 'conflict');
    case ER.LOCK_WAIT_TIMEOUT:
    case ER.LOCK_DEADLOCK:
      return make(`the server at ${at} reported a conflict with concurrent work: ${msg}`, 'retry the command', EXIT.runtime, 'conflict');
    case ER.TABLEACCESS_DENIED:
      // A GRANT on a table the admin holds nothing on is refused the same way whether the table
      // exists or not (the server does not tell a missing table to someone who may not see it).
      if (ctx.phase === 'mint') {
        const table = /for table [`'"]?([^`'"]+)[`'"]?(?:\.[`'"]?([^`'"]+)[`'"]?)?/.exec(msg);
        const name = table ? (table[2] ? `${table[1]}.${table[2]}` : table[1]) : 'a table';
        return make(
          `the policy grants on ${name}, which ${ctx.user} may not grant on ${at}: it does not exist, or ${ctx.user} holds nothing on it WITH GRANT OPTION`,
          `create the table or fix the grants in the policy, or grant it to ${ctx.user} WITH GRANT OPTION; ${doctor(ctx.name)}`,
          EXIT.runtime,
          'missing-object',
        );
      }
      return make(`the admin account ${ctx.user} lacks a privilege on ${at}: ${msg}`, `grant it to ${ctx.user} (WITH GRANT OPTION for what logins get), or ${doctor(ctx.name)}`);
    case ER.DBACCESS_DENIED:
    case ER.SPECIFIC_ACCESS_DENIED:
    case ER.PASSWORD_NO_MATCH:
    case ER.NONEXISTING_GRANT:
      return make(`the admin account ${ctx.user} lacks a privilege on ${at}: ${msg}`, `grant it to ${ctx.user} (WITH GRANT OPTION for what logins get), or ${doctor(ctx.name)}`);
    case ER.TOO_MANY_CONNECTIONS:
    case ER.TOO_MANY_USER_CONNECTIONS:
      return make(`the server at ${at} has no free connection slots: ${msg}`, 'retry in a moment');
  }
  switch (code) {
    case 'ECONNREFUSED':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return make(`cannot reach MySQL/MariaDB at ${at} (${code})`, 'check host and port in the policy and that the server is running', EXIT.runtime, 'unreachable');
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return make(`cannot resolve the host name ${ctx.host}`, "check 'host:' in the policy", EXIT.runtime, 'unreachable');
    case 'ETIMEDOUT':
      return make(`timed out connecting to MySQL/MariaDB at ${at}`, 'check the host, port and any firewall or VPN in between', EXIT.runtime, 'unreachable');
    case 'ECONNRESET':
    case 'EPIPE':
    case 'PROTOCOL_CONNECTION_LOST':
    case 'ER_SERVER_SHUTDOWN':
      return make(`lost the connection to MySQL/MariaDB at ${at}: ${msg}`, 'retry; the reaper and `jit reap` finish what was left', EXIT.runtime, ctx.phase === 'connect' ? 'unreachable' : undefined);
    case 'MYSQL_CLEAR_PASSWORD_NOT_ENABLED':
      return make(
        `the server at ${at} asked for the admin password in cleartext (mysql_clear_password); jit refused`,
        "use a native or caching_sha2 admin account, or opt in with admin.auth: password in the policy (over TLS only)",
        EXIT.runtime,
        'admin-auth',
      );
  }
  if (code && CERT_CODES.test(code)) {
    return code === 'HANDSHAKE_NO_SSL_SUPPORT'
      ? make(`MySQL/MariaDB at ${at} does not accept TLS connections`, 'use tls: disable in the policy only on a trusted network', EXIT.runtime, 'tls')
      : make(`the TLS certificate of ${at} could not be verified: ${msg}`, 'trust the server CA (NODE_EXTRA_CA_CERTS) or use tls: require', EXIT.runtime, 'tls');
  }
  if (ctx.phase === 'connect') {
    return make(`admin login to ${at} as ${ctx.user} failed: ${msg}`, `check host, port and tls${ctx.name ? ` of ${ctx.name}` : ''} in the policy: is MySQL/MariaDB listening there?`);
  }
  return make(`MySQL/MariaDB at ${at} refused the request: ${msg}${errno ? ` (error ${errno})` : ''}`, doctor(ctx.name));
}

/**
 * The account the server matched (`Access denied for user 'jitadmin'@'localhost'`). When that is
 * not the account the admin was created as, an anonymous ''@'host' account is the usual cause:
 * it is more specific than 'jitadmin'@'%' and wins for clients from that host (DESIGN §6).
 */
function seenAs(msg: string, user: string): string {
  const m = /for user '((?:[^'\\]|\\.)*)'@'((?:[^'\\]|\\.)*)'/.exec(msg);
  if (!m || m[2] === '%') return '';
  const host = m[2]!.replace(/[^\w.:-]/g, '?');
  return ` for '${user}'@'${host}' (a wrong password, or an anonymous ''@'${host}' account shadowing '${user}'@'%': create '${user}'@'${host}' or drop the anonymous account)`;
}
