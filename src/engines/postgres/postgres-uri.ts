import { isIPv6 } from 'node:net';
import type { ServerTarget } from '../engine.js';

/** encodeURIComponent leaves !'()* alone; encode them too so a URI survives any shell or config file. */
export function encodeUriPart(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

/** IPv6 literals go in brackets; a zone id's `%` must itself be encoded (RFC 6874). */
export function uriHost(host: string): string {
  if (!isIPv6(host)) return host;
  return `[${host.replace(/%/g, '%25')}]`;
}

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
