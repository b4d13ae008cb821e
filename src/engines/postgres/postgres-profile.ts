import type { EngineProfile } from '../profile.js';

/**
 * The libpq variables that select another server, database, identity or session setup: removed
 * from a child's environment so the lease's own win (a stale PGSERVICE or PGOPTIONS would send
 * psql elsewhere or change its session). The user's harmless settings stay: PGAPPNAME, PGTZ,
 * PGDATESTYLE, PGCLIENTENCODING, PGGEQO, PGLOCALEDIR, and the trust anchors PGSSLROOTCERT,
 * PGSSLCRL(DIR) and PGSSL{MIN,MAX}PROTOCOLVERSION (a private CA for tls: verify-full).
 */
const PG_ENV_NAMES: readonly string[] = [
  'PGHOST',
  'PGHOSTADDR',
  'PGPORT',
  'PGDATABASE',
  'PGUSER',
  'PGPASSWORD',
  'PGPASSFILE',
  'PGSERVICE',
  'PGSERVICEFILE',
  'PGOPTIONS',
  'PGCONNECT_TIMEOUT',
  'PGSSLMODE',
  'PGREQUIRESSL',
  'PGSSLCOMPRESSION',
  'PGSSLCERT',
  'PGSSLKEY',
  'PGSSLSNI',
  'PGSSLNEGOTIATION',
  'PGSSLCERTMODE',
  'PGREQUIREPEER',
  'PGREQUIREAUTH',
  'PGCHANNELBINDING',
  'PGGSSENCMODE',
  'PGGSSLIB',
  'PGKRBSRVNAME',
  'PGGSSDELEGATION',
  'PGTARGETSESSIONATTRS',
  'PGLOADBALANCEHOSTS',
  'PGSYSCONFDIR',
  'DATABASE_URL',
];

const TABLE_PRIVILEGES = ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER'] as const;

export const postgresProfile: EngineProfile = {
  name: 'postgres',
  label: 'PostgreSQL',
  defaultPort: 5432,
  databaseNoun: 'database',
  defaultSchema: () => 'public',
  tablePrivileges: TABLE_PRIVILEGES,
  sequencePrivileges: ['USAGE', 'SELECT', 'UPDATE'],
  refusedPrivileges: {},
  reservedRolePrefixes: ['pg_'],
  // The bootstrap superuser and the managed services' near-superuser roles.
  superuserRoles: ['postgres', 'rds_superuser', 'rdsadmin', 'cloudsqlsuperuser', 'azure_pg_admin', 'azuresu'],
  // Every pg_ schema name is reserved (pg_catalog, pg_toast, pg_temp_N, pg_toast_temp_N).
  systemSchema: (schema) => {
    const s = schema.toLowerCase();
    return s === 'information_schema' || s.startsWith('pg_');
  },
  // NAMEDATALEN - 1: longer names are truncated with only a NOTICE.
  maxIdentifierLength: 63,
  maxLoginLength: 63,
  clientEnvNames: PG_ENV_NAMES,
  client: {
    binaries: ['psql'],
    installHint: 'install the PostgreSQL client (apt install postgresql-client, brew install libpq, or the installer from postgresql.org)',
  },
  // transaction_timeout needs PostgreSQL 17: the mint refuses it on an older server.
  unsupportedLimits: {},
  expiryBackstop: 'VALID UNTIL',
  capabilities: { ownerHandover: true, sequences: true, socketHost: true, passwordFile: true },
};
