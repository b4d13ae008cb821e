import { readFileSync } from 'node:fs';
import { runtimeError } from '../core/errors.js';
import type { ServerTarget } from './engine.js';

/** Read a PEM file the policy named; it went away since the policy check (or a lease names a file the policy no longer does). */
function readPolicyPem(path: string, what: string, key: string, target: ServerTarget, hint: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    const of = target.name ? ` (${key} of ${target.name})` : '';
    throw runtimeError(`cannot read the ${what} ${path}${of}: ${code}`, hint);
  }
}

/**
 * The PEM text of the target's `tls_ca`, for the driver's `ca` (which replaces the system's CAs),
 * or undefined without one. The policy check read the file already; this read fails only when
 * it went away since (or a lease names a file the policy no longer does).
 */
export function readTlsCa(target: ServerTarget): string | undefined {
  if (!target.tlsCa) return undefined;
  return readPolicyPem(target.tlsCa, 'CA certificate', 'tls_ca', target, 'restore the file, or point tls_ca in the policy at the CA that signed the server certificate');
}

/** The client certificate and key (`tls_cert`/`tls_key`) as the drivers' `cert` and `key`, or nothing without them. */
export function readClientCert(target: ServerTarget): { cert: string; key: string } | Record<string, never> {
  if (!target.tlsCert || !target.tlsKey) return {};
  const hint = 'restore the file, or point tls_cert and tls_key in the policy at the client certificate and its key';
  return {
    cert: readPolicyPem(target.tlsCert, 'client certificate', 'tls_cert', target, hint),
    key: readPolicyPem(target.tlsKey, 'client key', 'tls_key', target, hint),
  };
}

/** Node's TLS check of the host name, skipped: libpq's verify-ca (tls: require with tls_ca) checks the chain only. */
export const CHAIN_ONLY = { checkServerIdentity: (): undefined => undefined } as const;
