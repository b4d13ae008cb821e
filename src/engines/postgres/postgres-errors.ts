import { EXIT, JitError, isJitError, type ServerErrorKind } from '../../core/errors.js';
import { redact } from '../../core/redact.js';
import type { ServerErrorContext } from '../error-context.js';
import { EXPIRED_SQLSTATE, MARKER_CONFLICT_SQLSTATE, MARKER_PRIVILEGES_SQLSTATE } from './postgres-sql.js';
import { TRANSACTION_TIMEOUT_SQLSTATE } from './postgres-limits.js';
import { GROUP_CONFLICT_SQLSTATE, GROUP_FOREIGN_GRANTS_SQLSTATE } from './postgres-group.js';

export type PgErrorContext = ServerErrorContext;

/** What pg (DatabaseError) and node:net errors carry. */
interface DriverError {
  code?: string;
  message?: string;
  errors?: DriverError[];
}

const doctor = (name = 'DB') => `run 'jit doctor ${name}' to see what the admin role needs`;
const CERT_CODES = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_TLS/;

/** The SQLSTATE or errno, also from an AggregateError (Node tries every address of `localhost`). */
export function errorCode(err: unknown): string | undefined {
  const e = err as DriverError | undefined;
  return e?.code ?? e?.errors?.find((x) => x?.code)?.code;
}

/** One line, secrets removed. */
export function oneLine(err: unknown): string {
  const e = err as DriverError | undefined;
  const text = e?.message || e?.errors?.[0]?.message || String(err);
  return redact(text.replace(/\s+/g, ' ').trim());
}

/** Translate a driver error into a JitError, once, at the engine boundary. */
export function translatePgError(err: unknown, ctx: PgErrorContext): JitError {
  if (isJitError(err)) return err;
  const code = errorCode(err);
  const msg = oneLine(err);
  const at = `${ctx.host.includes(':') ? `[${ctx.host}]` : ctx.host}:${ctx.port}`;
  const make = (message: string, hint?: string, exitCode: 1 | 2 = EXIT.runtime, kind?: ServerErrorKind) =>
    new JitError(redact(message), { hint: hint && redact(hint), exitCode, cause: err, ...(kind ? { kind } : {}) });

  switch (code) {
    case '28P01':
      return make(
        `admin login to ${at} as ${ctx.user} failed: password authentication failed`,
        `check the credential with 'jit admin test ${ctx.name ?? 'DB'}' or store it with 'jit admin set ${ctx.name ?? 'DB'}'`,
        EXIT.runtime,
        'admin-auth',
      );
    case '28000':
      // pg_hba.conf's clientcert / cert method: "connection requires a valid client certificate".
      if (/client certificate/i.test(msg)) {
        return make(`admin login to ${at} as ${ctx.user} was refused: ${msg}`, 'the server asks for a client certificate: give the database tls_cert and tls_key in the policy');
      }
      return make(`admin login to ${at} as ${ctx.user} was refused: ${msg}`, "check admin.user in the policy and the server's pg_hba.conf");
    case '3D000':
      return make(`database ${ctx.database} does not exist on ${at}`, "check 'database:' in the policy");
    case '53300':
      return make(`PostgreSQL at ${at} has no free connection slots: ${msg}`, 'retry in a moment');
    case '57P03':
      return make(`PostgreSQL at ${at} is not accepting connections yet: ${msg}`, 'retry in a moment');
    case 'ECONNREFUSED':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return make(`cannot reach PostgreSQL at ${at} (${code})`, 'check host and port in the policy and that the server is running', EXIT.runtime, 'unreachable');
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return make(`cannot resolve the host name ${ctx.host}`, "check 'host:' in the policy", EXIT.runtime, 'unreachable');
    case 'ETIMEDOUT':
      return make(`timed out connecting to PostgreSQL at ${at}`, 'check the host, port and any firewall or VPN in between', EXIT.runtime, 'unreachable');
    case 'ECONNRESET':
    case 'EPIPE':
    case '57P01':
    case '57P02':
      return make(`lost the connection to PostgreSQL at ${at}: ${msg}`, 'retry; the reaper and `jit reap` finish what was left');
    case '42501':
      return make(`the admin role ${ctx.user} lacks a privilege on ${at}: ${msg}`, `grant it to ${ctx.user}, or ${doctor(ctx.name)}`);
    case '42P01':
      return make(`the policy names a table that does not exist in ${ctx.database}: ${msg}`, 'fix the grants in the policy or create the table', EXIT.usage, 'missing-object');
    case '3F000':
      return make(`the policy names a schema that does not exist in ${ctx.database}: ${msg}`, 'fix the grants in the policy or create the schema', EXIT.usage, 'missing-object');
    case '42704':
      return ctx.phase === 'mint'
        ? make(`the policy names a role that does not exist on ${at}: ${msg}`, 'create the group role or remove it from member_of/owner', EXIT.usage, 'missing-object')
        : make(`${msg} on ${at}`, 'the login may already be revoked; see `jit list --all`', EXIT.runtime, 'missing-object');
    case '42809':
    case '0LP01':
      return make(`the policy grants something PostgreSQL refuses: ${msg}`, 'fix the grants in the policy', EXIT.usage);
    case '42710':
      return make(`a role named ${ctx.login ?? '?'} already exists on ${at}`, 'retry: a new login name is drawn each time', EXIT.runtime, 'conflict');
    case 'XX000':
    case '40001':
    case '40P01':
    case '55P03':
      return make(`PostgreSQL at ${at} reported a conflict with concurrent work: ${msg}`, 'retry the command', EXIT.runtime, 'conflict');
    case '57014':
      return make(`a statement timed out on ${at}: ${msg}`, 'the server is busy or a lock is held; retry later');
    case EXPIRED_SQLSTATE:
      return make(`login ${ctx.login ?? '?'} has already expired by the clock of ${at}; expired is final`, 'mint a new login (jit uri / jit connect)');
    case MARKER_CONFLICT_SQLSTATE:
      return make(`${msg} on ${at}`, 'rename that role: jit finds its logins through a NOLOGIN role named jit');
    case TRANSACTION_TIMEOUT_SQLSTATE:
      return make(`on ${at}, ${msg}; no login was minted`, `remove transaction_timeout from the role in the policy (statement_timeout and idle_timeout work on older servers)`, EXIT.usage);
    case GROUP_FOREIGN_GRANTS_SQLSTATE:
      return make(
        `on ${at}, ${msg}; no login was minted`,
        'have that role revoke what it granted there (or drop the group role: DROP OWNED BY it, then DROP ROLE it), then retry: jit rebuilds it',
      );
    case GROUP_CONFLICT_SQLSTATE:
      return make(`on ${at}, ${msg}; no login was minted`, 'rename or drop that role: jit keeps each policy role\'s grants in a NOLOGIN role of that name');
    case MARKER_PRIVILEGES_SQLSTATE:
      return make(`on ${at}, ${msg}; no login was minted`, `run 'jit doctor ${ctx.name ?? 'DB'}': it names the REVOKE that fixes it`);
  }
  if (code && CERT_CODES.test(code)) {
    return make(`the TLS certificate of ${at} could not be verified: ${msg}`, 'trust the server CA (NODE_EXTRA_CA_CERTS) or use tls: require', EXIT.runtime, 'tls');
  }
  if (/does not support SSL/i.test(msg)) {
    return make(`PostgreSQL at ${at} does not accept TLS connections`, 'use tls: disable in the policy only on a trusted network', EXIT.runtime, 'tls');
  }
  if (/connection timeout|timeout expired/i.test(msg)) {
    return make(`timed out connecting to PostgreSQL at ${at}`, 'check the host, port and any firewall or VPN in between', EXIT.runtime, 'unreachable');
  }
  if (/Connection terminated|Client was closed|not queryable/i.test(msg)) {
    return make(`lost the connection to PostgreSQL at ${at}: ${msg}`, 'retry; the reaper and `jit reap` finish what was left');
  }
  if (ctx.phase === 'connect') {
    return make(`admin login to ${at} as ${ctx.user} failed: ${msg}`, `check host, port and tls${ctx.name ? ` of ${ctx.name}` : ''} in the policy: is PostgreSQL listening there?`);
  }
  return make(`PostgreSQL at ${at} refused the request: ${msg}${code ? ` (SQLSTATE ${code})` : ''}`, doctor(ctx.name));
}
