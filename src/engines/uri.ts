import { isIPv6 } from 'node:net';

/** encodeURIComponent leaves !'()* alone; encode them too so a URI survives any shell or config file. */
export function encodeUriPart(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

/**
 * One path segment (the database), encoded only where RFC 3986 requires it: a pchar may be
 * unreserved, a sub-delim, `:` or `@`. node-postgres (pg-connection-string) reads the path with
 * decodeURI, which leaves `%24`, `%2B`, `%3B`… as they are, so `app%24x-1` asked it for a
 * database of that name. libpq, psycopg and mysql2 decode every escape and take either form.
 */
export function encodeUriPath(segment: string): string {
  return encodeURIComponent(segment).replace(/%(2[146789ABC]|3[ABD]|40)/g, (e) => decodeURIComponent(e));
}

/** IPv6 literals go in brackets; a zone id's `%` must itself be encoded (RFC 6874). */
export function uriHost(host: string): string {
  if (!isIPv6(host)) return host;
  return `[${host.replace(/%/g, '%25')}]`;
}
