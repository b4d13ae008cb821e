import type { EngineName, SessionLimitName } from '../policy/types.js';

/**
 * The pure facts of one engine: what the policy validator, the resolver and the command layer
 * need to know without connecting or loading a driver. Synchronous, data only; every question
 * "which engine is this?" is answered here instead of with a branch on the engine's name.
 */
export interface EngineProfile {
  readonly name: EngineName;
  /** For messages: "PostgreSQL", "MySQL/MariaDB". */
  readonly label: string;
  readonly defaultPort: number;
  /** What the policy's `database:` names, for messages: "database" or "default schema". */
  readonly databaseNoun: string;
  /** The schema a bare table name means (Postgres: public; MySQL: the policy's database). */
  defaultSchema(database: string): string;
  /** Privileges a grant on tables or a whole schema may list, in canonical order. */
  readonly tablePrivileges: readonly string[];
  /** Privileges on sequences; null when the engine has no sequence grants. */
  readonly sequencePrivileges: readonly string[] | null;
  /** Privileges refused with an engine-specific reason (e.g. MySQL has no TRUNCATE privilege). */
  readonly refusedPrivileges: Readonly<Record<string, string>>;
  /** Role-name prefixes the server reserves for itself (Postgres: pg_). Lower case. */
  readonly reservedRolePrefixes: readonly string[];
  /** Roles or accounts that are, or could be, superusers (membership escalates). Lower case. */
  readonly superuserRoles: readonly string[];
  /** Schemas of the server itself (the catalog); a grant there is refused. */
  systemSchema(schema: string): boolean;
  /** Longest schema/table/role name the server keeps intact. */
  readonly maxIdentifierLength: number;
  /** Longest login name the server keeps intact. */
  readonly maxLoginLength: number;
  /** Every variable the engine's clients read: removed from a child's environment first. */
  readonly clientEnvNames: readonly string[];
  /** The interactive client `jit connect` launches: the first of `binaries` on PATH. */
  readonly client: { readonly binaries: readonly string[]; readonly installHint: string };
  /**
   * Session limits (policy role keys) the engine cannot apply to one login, each with the reason;
   * the validator refuses them. One the server version decides is refused at mint instead.
   */
  readonly unsupportedLimits: Readonly<Partial<Record<SessionLimitName, string>>>;
  /** What the server itself does at expiry, for doctor and messages. */
  readonly expiryBackstop: string;
  readonly capabilities: EngineCapabilities;
}

/** Capability flags; each one is read by code that behaves differently on it. */
export interface EngineCapabilities {
  /** A policy `owner:` role can take over what a login created (Postgres REASSIGN OWNED). */
  readonly ownerHandover: boolean;
  /** Grants on sequences exist. */
  readonly sequences: boolean;
  /** `host:` may name the directory of the server's Unix socket (libpq: a host starting with `/`). */
  readonly socketHost: boolean;
  /** Its clients read a password file beside a URI without the password (libpq's pgpass): `jit uri --format pgpass`. */
  readonly passwordFile: boolean;
}
