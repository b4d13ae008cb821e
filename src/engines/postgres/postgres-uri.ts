import type { HandoutOptions, ServerTarget } from '../engine.js';
import { encodeUriPart, encodeUriPath, uriHost } from '../uri.js';
import { usageError } from '../../core/errors.js';

/** libpq's rule: a host that starts with `/` is the directory of the server's Unix socket. */
export function isSocketDir(host: string): boolean {
  return host.startsWith('/');
}

/**
 * `postgresql://login:password@host:port/database?sslmode=…`, userinfo percent-encoded, the path
 * only where RFC 3986 requires it. A socket directory goes in `?host=` with the port beside it
 * (`postgresql://u:p@/app?host=/run/postgresql&port=5432`): written as the authority's host,
 * `/run/postgresql:5432` becomes part of the path and libpq and node-postgres reach the default
 * server instead. The query form is the one libpq, node-postgres, SQLAlchemy, asyncpg and pgx
 * all read (a `%2F`-encoded host is refused by Go's URL parser).
 */
export function buildUri(target: ServerTarget, login: string, password: string, opts: HandoutOptions = {}): string {
  const userinfo = `${encodeUriPart(login)}:${encodeUriPart(password)}`;
  const path = encodeUriPath(target.database);
  const params = [`sslmode=${target.tls}`];
  // libpq, node-postgres (which reads the file itself), psycopg and pgx all take sslrootcert.
  if (target.tlsCa) params.push(`sslrootcert=${queryPath(target.tlsCa)}`);
  // The same for the client certificate: node-postgres reads both files named here itself.
  if (target.tlsCert && target.tlsKey) params.push(`sslcert=${queryPath(target.tlsCert)}`, `sslkey=${queryPath(target.tlsKey)}`);
  if (opts.leaseId) params.push(`application_name=${encodeUriPart(applicationName(opts.leaseId))}`);
  if (isSocketDir(target.host)) {
    return `postgresql://${userinfo}@/${path}?host=${queryPath(target.host)}&port=${target.port}&${params.join('&')}`;
  }
  return `postgresql://${userinfo}@${uriHost(target.host)}:${target.port}/${path}?${params.join('&')}`;
}

/** A file system path as a query value: encoded, but its `/` kept readable (RFC 3986 allows it there). */
export function queryPath(path: string): string {
  return encodeUriPart(path).replace(/%2F/g, '/');
}

/**
 * What pg_stat_activity shows for a lease's sessions: `jit-<lease id>`, the id `jit list`,
 * `revoke` and `extend` take. Lease ids are 10 lower-case letters and digits, far within the
 * 63 bytes the server keeps of an application name.
 */
export function applicationName(leaseId: string): string {
  return `jit-${leaseId}`;
}

/** libpq's own variables; psql and most drivers read them, so the password never needs argv. */
export function clientEnv(target: ServerTarget, login: string, password: string, opts: HandoutOptions = {}): Record<string, string> {
  return {
    PGHOST: target.host,
    PGPORT: String(target.port),
    PGDATABASE: target.database,
    PGUSER: login,
    PGPASSWORD: password,
    PGSSLMODE: target.tls,
    ...(target.tlsCa ? { PGSSLROOTCERT: target.tlsCa } : {}),
    ...(target.tlsCert && target.tlsKey ? { PGSSLCERT: target.tlsCert, PGSSLKEY: target.tlsKey } : {}),
    PGCONNECT_TIMEOUT: '10',
    // The user's own PGAPPNAME is theirs to keep (the child inherits it); else name the lease.
    ...(opts.leaseId && !opts.userEnv?.PGAPPNAME ? { PGAPPNAME: applicationName(opts.leaseId) } : {}),
  };
}

/**
 * `jdbc:postgresql://host:port/database?user=…&password=…&sslmode=…` for pgjdbc (and what is
 * built on it: DBeaver, DataGrip, IntelliJ, Spark, Flyway). User and password are parameters:
 * pgjdbc reads no userinfo, and `"jdbc:" + DATABASE_URL` fails. pgjdbc decodes the path and every
 * value with URLDecoder, which turns `+` into a space: every part is fully percent-encoded.
 * Certificate paths are carried as pgjdbc names them (sslrootcert, sslcert, sslkey); the
 * application name is pgjdbc's ApplicationName.
 */
export function buildJdbcUrl(target: ServerTarget, login: string, password: string, opts: HandoutOptions = {}): string {
  if (isSocketDir(target.host)) {
    throw usageError(
      `${target.name ?? target.database} is reached through the Unix socket directory ${target.host}, which pgjdbc cannot use`,
      'use --format uri (libpq and node-postgres read the socket), or give the database a TCP host in the policy',
    );
  }
  const params = [`user=${encodeUriPart(login)}`, `password=${encodeUriPart(password)}`, `sslmode=${target.tls}`];
  if (target.tlsCa) params.push(`sslrootcert=${encodeUriPart(target.tlsCa)}`);
  if (target.tlsCert && target.tlsKey) params.push(`sslcert=${encodeUriPart(target.tlsCert)}`, `sslkey=${encodeUriPart(target.tlsKey)}`);
  if (opts.leaseId) params.push(`ApplicationName=${encodeUriPart(applicationName(opts.leaseId))}`);
  return `jdbc:postgresql://${uriHost(target.host)}:${target.port}/${encodeUriPart(target.database)}?${params.join('&')}`;
}
