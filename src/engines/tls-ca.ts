import { readFileSync } from 'node:fs';
import { runtimeError } from '../core/errors.js';
import type { ServerTarget } from './engine.js';

/**
 * The PEM text of the target's `tls_ca`, for the driver's `ca` (which replaces the system's CAs),
 * or undefined without one. The policy check read the file already; this read fails only when
 * it went away since (or a lease names a file the policy no longer does).
 */
export function readTlsCa(target: ServerTarget): string | undefined {
  if (!target.tlsCa) return undefined;
  try {
    return readFileSync(target.tlsCa, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    const of = target.name ? ` (tls_ca of ${target.name})` : '';
    throw runtimeError(`cannot read the CA certificate ${target.tlsCa}${of}: ${code}`, 'restore the file, or point tls_ca in the policy at the CA that signed the server certificate');
  }
}

/** Node's TLS check of the host name, skipped: libpq's verify-ca (tls: require with tls_ca) checks the chain only. */
export const CHAIN_ONLY = { checkServerIdentity: (): undefined => undefined } as const;
