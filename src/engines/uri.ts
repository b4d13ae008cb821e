import { isIPv6 } from 'node:net';

/** encodeURIComponent leaves !'()* alone; encode them too so a URI survives any shell or config file. */
export function encodeUriPart(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

/** IPv6 literals go in brackets; a zone id's `%` must itself be encoded (RFC 6874). */
export function uriHost(host: string): string {
  if (!isIPv6(host)) return host;
  return `[${host.replace(/%/g, '%25')}]`;
}
