/** A validated, defaults-filled policy. Produced by loadPolicy(); never built by hand elsewhere. */
export interface Policy {
  /** Absolute path of the file it was read from. */
  file: string;
  version: 1;
  databases: Record<string, DatabaseConfig>;
}

export type EngineName = 'postgres' | 'mysql';
export type TlsMode = 'disable' | 'require' | 'verify-full';

export interface DatabaseConfig {
  /** The key under `databases:`; also the keychain account. */
  name: string;
  engine: EngineName;
  host: string;
  port: number;
  /** The database (Postgres) / default schema (MySQL) the login connects to. */
  database: string;
  tls: TlsMode;
  /**
   * Absolute path of the CA certificate (PEM) the server's certificate must chain to (policy
   * `tls_ca`, written relative to the policy file or absolute). With `tls: require` the chain is
   * checked (libpq's verify-ca); with `verify-full` the host name too.
   */
  tlsCa?: string;
  /**
   * Absolute paths of the client certificate (PEM) and its private key that jit, and every login
   * it hands out, present to the server (policy `tls_cert` / `tls_key`, always both or neither).
   */
  tlsCert?: string;
  tlsKey?: string;
  admin: AdminConfig;
  /** Postgres: objects a login created are REASSIGNed to this role on revoke instead of dropped. */
  owner?: string;
  roles: Record<string, RoleConfig>;
}

export interface AdminConfig {
  user: string;
  /** `keychain` (default), `env:NAME` or `command:…`, exactly as written in the policy. */
  password: string;
  /**
   * The weakest password request the admin login answers, named as in pg_hba.conf: `scram-sha-256`
   * (the default, when absent), `md5` (also MD5) or `password` (also cleartext).
   */
  auth?: AdminAuth;
}

export type AdminAuth = 'scram-sha-256' | 'md5' | 'password';

export interface RoleConfig {
  /** The key under `roles:`. */
  name: string;
  /** Default TTL in ms when --ttl is not given. */
  ttlMs: number;
  /** Upper bound in ms for --ttl and for `extend`, counted from creation. */
  maxTtlMs: number;
  requireReason: boolean;
  /** Max concurrent connections of one minted login; -1 for no limit. */
  connectionLimit: number;
  grants: Grant[];
  /** Pre-existing NOLOGIN group roles the login becomes a member of. */
  memberOf: string[];
  /** Ceilings on what one session of a minted login may spend; each absent when not set (the server's own settings apply). */
  limits?: SessionLimits;
}

/** A limit's name as the policy writes it (a key of a role). */
export type SessionLimitName = 'statement_timeout' | 'idle_timeout' | 'transaction_timeout';

/**
 * Per-login session limits, in ms, applied by the engine at mint (PostgreSQL: the login's
 * role settings; MariaDB: the account's MAX_STATEMENT_TIME).
 */
export interface SessionLimits {
  /** Longest statement. */
  statementTimeoutMs?: number;
  /** Longest idle time, in or out of a transaction, before the server closes the session. */
  idleTimeoutMs?: number;
  /** Longest transaction (PostgreSQL 17+). */
  transactionTimeoutMs?: number;
}

/** One grant entry: privileges on named tables, or on every table of a schema. */
export interface Grant {
  /** Upper-case, from the allow-list. */
  privileges: string[];
  /** `schema.table` (schema defaults to `public` for Postgres) — exactly one of tables/schema/sequences. */
  tables?: QualifiedName[];
  schema?: string;
  sequences?: QualifiedName[];
}

export interface QualifiedName {
  schema: string;
  name: string;
}
