import type { ServerTarget } from '../engine.js';
import { encodeUriPart, uriHost } from '../uri.js';

/** `postgresql://login:password@host:port/database?sslmode=…`, userinfo and path percent-encoded. */
export function buildUri(target: ServerTarget, login: string, password: string): string {
  const userinfo = `${encodeUriPart(login)}:${encodeUriPart(password)}`;
  return `postgresql://${userinfo}@${uriHost(target.host)}:${target.port}/${encodeUriPart(target.database)}?sslmode=${target.tls}`;
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
