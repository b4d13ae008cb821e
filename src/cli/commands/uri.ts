import type { Deps } from '../deps.js';
import { mintLease, type Minted } from '../../lifecycle/mint.js';
import { revokeLease } from '../../lifecycle/revoke.js';
import { leaseJson, notice, printData, printJson } from '../output.js';
import { untilText } from '../../core/time-text.js';
import { serverNow } from '../../leases/lease.js';
import { usageError } from '../../core/errors.js';
import type { URI_FORMATS } from '../command-table.js';

export interface MintFlags {
  role?: string;
  ttl?: string;
  reason?: string;
  only?: string;
}

type UriFormat = (typeof URI_FORMATS)[number];

/** `jit-<database>-<role>`: the service name (and option file) a GUI is pointed at once; the newest lease of that role fills it. */
export function serviceName(database: string, role: string): string {
  return `jit-${database}-${role}`;
}

/**
 * `jit uri DB --role R [--format uri|jdbc|service|pgpass]`: exactly one line on stdout; the
 * reaper revokes at expiry. `service` and `pgpass` also write the lease's entries in the client
 * files under $JIT_HOME/clients (they go when the lease does) and print how to name them.
 */
export async function run([database]: [string | undefined], flags: MintFlags & { format?: string }, deps: Deps): Promise<number> {
  const format = (flags.format ?? 'uri') as UriFormat;
  const minted = await mintLease(
    {
      database,
      ...flags,
      command: 'uri',
      handout: 'handout',
      // Refused before anything is minted: a format the database's clients cannot use.
      preflight: async (engine, target) => {
        if (format === 'jdbc') engine.buildJdbcUrl(target, 'jit_check', 'check');
        if (format === 'pgpass' && !engine.profile.capabilities.passwordFile) {
          throw usageError(`${engine.profile.label} clients read no pgpass file`, 'use --format service: an option file mysql and mariadb read with --defaults-extra-file');
        }
      },
    },
    deps,
  );
  const { lease, uri } = minted;
  const extra: Record<string, unknown> = {};
  let line = uri;
  let files: string[] = [];
  if (format === 'jdbc') {
    line = minted.engine.buildJdbcUrl(lease.target, lease.user, minted.password, { leaseId: lease.id });
    extra.jdbc = line;
  } else if (format === 'service' || format === 'pgpass') {
    const written = await writeClientFiles(minted, deps);
    files = written.paths;
    line = format === 'pgpass' ? written.passwordless! : written.service;
    Object.assign(extra, { service: written.service, files }, format === 'pgpass' ? { passwordless_uri: line } : {});
  }
  if (deps.io.json) printJson(deps.io, { ...leaseJson(lease, uri), ...extra });
  else printData(deps.io, line);
  notice(deps.io, `lease ${lease.id}: ${lease.user} on ${lease.database} (${lease.role}) ${untilText(lease.expiresAt, serverNow(lease, deps.now()), deps.now())} — revoke early with: jit revoke ${lease.id}`);
  if (files.length) notice(deps.io, `written to ${files.join(', ')}; removed when the lease ends`);
  return 0;
}

/** The lease's client-file entries; a lease whose entries cannot be written is revoked, not left behind unused. */
async function writeClientFiles(minted: Minted, deps: Deps): Promise<{ service: string; passwordless?: string; paths: string[] }> {
  const { lease, engine, password } = minted;
  const store = deps.leases.clientFiles;
  try {
    const files = engine.clientFiles(lease.target, lease.user, password, { service: serviceName(lease.database, lease.role), dir: store.dir });
    const paths = await store.add(lease, files.entries);
    return { service: files.service, ...(files.passwordless ? { passwordless: files.passwordless } : {}), paths };
  } catch (err) {
    await revokeLease(lease, deps, 'mint-failed').catch(() => {});
    throw err;
  }
}
