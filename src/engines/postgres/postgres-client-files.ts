import { join } from 'node:path';
import type { ClientFiles, ServerTarget } from '../engine.js';
import { encodeUriPart, encodeUriPath, uriHost } from '../uri.js';
import { isSocketDir, queryPath } from './postgres-uri.js';
import { runtimeError } from '../../core/errors.js';

/** libpq's pgpass escapes: `\` and `:` inside a field; `*` escaped so it is never the wildcard. */
function pgpassField(value: string): string {
  return value.replace(/[\\:*]/g, (c) => `\\${c}`);
}

/**
 * A pg_service.conf value: libpq takes the rest of the line, trailing blanks trimmed, with no
 * escapes; pgjdbc trims both ends. Nothing jit writes holds a line break (the policy refuses
 * control characters); a path with blanks at its ends would not survive either parser.
 */
function serviceValue(key: string, value: string): string {
  if (/[\r\n]/.test(value) || value.trim() !== value) {
    throw runtimeError(`${key} ${JSON.stringify(value)} cannot be written to pg_service.conf: it starts or ends with a blank`, 'rename the file without blanks at either end of its name, or use --format uri');
  }
  return `${key}=${value}`;
}

/**
 * The login's line in `pgpass` and its section in `pg_service.conf` (service `jit-<db>-<role>`).
 * The service has only keys libpq and pgjdbc both accept (pgjdbc refuses the whole file on one
 * it does not know, e.g. application_name or passfile); the password is only in pgpass, which
 * psql, pgAdmin (libpq) and DBeaver (pgjdbc) read for the service's host, port, database and user.
 * libpq matches a socket connection against the host `localhost`.
 */
export function clientFiles(target: ServerTarget, login: string, password: string, ctx: { service: string; dir: string }): ClientFiles {
  const host = isSocketDir(target.host) ? 'localhost' : target.host;
  const pgpass = [host, String(target.port), target.database, login, password].map(pgpassField).join(':');
  const service = [
    `[${ctx.service}]`,
    serviceValue('host', target.host),
    serviceValue('port', String(target.port)),
    serviceValue('dbname', target.database),
    serviceValue('user', login),
    serviceValue('sslmode', target.tls),
    ...(target.tlsCa ? [serviceValue('sslrootcert', target.tlsCa)] : []),
    ...(target.tlsCert && target.tlsKey ? [serviceValue('sslcert', target.tlsCert), serviceValue('sslkey', target.tlsKey)] : []),
  ];
  const params = [`sslmode=${target.tls}`, ...(target.tlsCa ? [`sslrootcert=${queryPath(target.tlsCa)}`] : [])];
  if (target.tlsCert && target.tlsKey) params.push(`sslcert=${queryPath(target.tlsCert)}`, `sslkey=${queryPath(target.tlsKey)}`);
  const path = encodeUriPath(target.database);
  const passwordless = isSocketDir(target.host)
    ? `postgresql://${encodeUriPart(login)}@/${path}?host=${queryPath(target.host)}&port=${target.port}&${params.join('&')}`
    : `postgresql://${encodeUriPart(login)}@${uriHost(target.host)}:${target.port}/${path}?${params.join('&')}`;
  return {
    entries: [
      { file: 'pgpass', text: `${pgpass}\n` },
      { file: 'pg_service.conf', slot: ctx.service, text: `${service.join('\n')}\n` },
    ],
    service: `service=${ctx.service}`,
    passwordless,
  };
}

/** Where a PostgreSQL client is pointed: PGPASSFILE and PGSERVICEFILE. */
export function clientFilePaths(dir: string): { pgpass: string; service: string } {
  return { pgpass: join(dir, 'pgpass'), service: join(dir, 'pg_service.conf') };
}
