import type { ServerTarget } from '../engine.js';
import { encodeUriPart, encodeUriPath, uriHost } from '../uri.js';

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
export function buildUri(target: ServerTarget, login: string, password: string): string {
  const userinfo = `${encodeUriPart(login)}:${encodeUriPart(password)}`;
  const path = encodeUriPath(target.database);
  if (isSocketDir(target.host)) {
    const dir = encodeURIComponent(target.host).replace(/%2F/g, '/');
    return `postgresql://${userinfo}@/${path}?host=${dir}&port=${target.port}&sslmode=${target.tls}`;
  }
  return `postgresql://${userinfo}@${uriHost(target.host)}:${target.port}/${path}?sslmode=${target.tls}`;
}

/** libpq's own variables; psql and most drivers read them, so the password never needs argv. */
export function clientEnv(target: ServerTarget, login: string, password: string): Record<string, string> {
  return {
    PGHOST: target.host,
    PGPORT: String(target.port),
    PGDATABASE: target.database,
    PGUSER: login,
    PGPASSWORD: password,
    PGSSLMODE: target.tls,
    PGCONNECT_TIMEOUT: '10',
  };
}
