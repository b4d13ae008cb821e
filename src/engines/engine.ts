import type { EngineBootstrap } from './bootstrap.js';
import type { AdminAuth, DatabaseConfig, EngineName, Grant, SessionLimits, TlsMode } from '../policy/types.js';
import type { EngineProfile } from './profile.js';

/** Everything needed to reach a server as the admin; carried in leases so revocation outlives the policy. */
export interface ServerTarget {
  /** The policy's name for this database (`prod-db`), for messages and hints. */
  name?: string;
  engine: EngineName;
  host: string;
  port: number;
  database: string;
  tls: TlsMode;
  /** Absolute path of the CA certificate (PEM) the server's must chain to (policy `tls_ca`); absent: the system's CAs. */
  tlsCa?: string;
  /** Absolute paths of the client certificate and key (PEM) presented to the server (policy `tls_cert`/`tls_key`): by the admin connection and by every login handed out. */
  tlsCert?: string;
  tlsKey?: string;
  adminUser: string;
  /** Postgres: role that receives what a login owned (REASSIGN OWNED) instead of dropping it. */
  owner?: string;
  /** Give up connecting after this long (default 10 s); set per call, never stored in a lease. */
  connectTimeoutMs?: number;
  /** The weakest password request the admin login answers (policy `admin.auth`); absent: SCRAM only. */
  adminAuth?: AdminAuth;
}

export function targetFromConfig(db: DatabaseConfig): ServerTarget {
  return {
    name: db.name,
    engine: db.engine,
    host: db.host,
    port: db.port,
    database: db.database,
    tls: db.tls,
    ...(db.tlsCa ? { tlsCa: db.tlsCa } : {}),
    ...(db.tlsCert && db.tlsKey ? { tlsCert: db.tlsCert, tlsKey: db.tlsKey } : {}),
    adminUser: db.admin.user,
    ...(db.owner ? { owner: db.owner } : {}),
    ...(db.admin.auth && db.admin.auth !== 'scram-sha-256' ? { adminAuth: db.admin.auth } : {}),
  };
}

/** Roles and accounts are server-wide: policy databases on one server share their jit logins. */
export function serverKeyOf(db: DatabaseConfig): string {
  return `${db.engine}://${db.host.toLowerCase()}:${db.port}`;
}

/** What the server records about a login next to it (Postgres: COMMENT ON ROLE as JSON; MySQL: a row in the jit.leases ledger). */
export interface LeaseMarker {
  /** Lease id. */
  id: string;
  /** Policy database name (the key under `databases:`). */
  database: string;
  role: string;
  /** OS user that minted it, and the machine. */
  requester: string;
  requester_host: string;
  reason?: string;
  created_at: string;
  expires_at: string;
  max_expires_at: string;
}

export interface MintRequest {
  login: string;
  password: string;
  /** Server-side expiry (VALID UNTIL / a one-shot event). */
  expiresAt: Date;
  grants: Grant[];
  memberOf: string[];
  /** -1 for unlimited. */
  connectionLimit: number;
  /** The role's session limits (policy statement_timeout, idle_timeout, transaction_timeout). */
  limits?: SessionLimits;
  marker: LeaseMarker;
  /**
   * True when `grants` are a `--only` narrowing of the role's: they are granted to this login
   * alone. Otherwise an engine may hold them in a group role shared by the role's logins
   * (PostgreSQL: postgres-group.ts).
   */
  narrowed?: boolean;
}

export interface MintResult {
  /** The server's clock at creation time; the reaper uses the skew against the local clock. */
  serverNow: Date;
}

export interface RevokeResult {
  login: string;
  /** True when the login no longer exists on the server (also when it was already gone). */
  gone: boolean;
  /** True when there was nothing to revoke: someone else (e.g. `revoke --all` from another machine) already had. */
  alreadyGone?: boolean;
  /** Sessions that were terminated. */
  terminated: number;
  /** Steps that failed; revocation keeps going past them. */
  errors: string[];
}

/** One login to revoke (AdminSession.revoke, revokeMany). */
export interface RevokeRequest {
  login: string;
  /** The lease id the caller expects the login to carry, when it knows one (for messages and the ledger). */
  leaseId?: string;
}

/** Move a login's server-side expiry (AdminSession.extend). */
export interface ExtendRequest {
  login: string;
  expiresAt: Date;
  /** The marker with its new expires_at. */
  marker: LeaseMarker;
}

/** A jit login found on the server through its marker (never through its name alone). */
export interface ServerLogin {
  login: string;
  marker: LeaseMarker | null;
  /** Server-side expiry, when the engine has one. */
  validUntil: Date | null;
  sessions: number;
}

export interface LoginSession {
  login: string;
  pid: number;
  clientAddr: string | null;
  since: Date | null;
  state: string | null;
  query: string | null;
}

/** What a hand-out knows beyond the login (Engine.buildUri, clientEnv, clientLaunch). */
export interface HandoutOptions {
  /** The lease id, named in the session's application name (`jit-<id>` in pg_stat_activity). */
  leaseId?: string;
  /** The user's own environment: an application name they set themselves (PGAPPNAME) is kept. */
  userEnv?: Readonly<Record<string, string | undefined>>;
}

/**
 * How to launch the interactive client for one login. The password travels in `env` (psql:
 * PGPASSWORD) or in one of `files` (mysql: a 0600 --defaults-extra-file), never in argv; the
 * caller removes `files` when the client exits.
 */
export interface ClientLaunch {
  /** Arguments before the user's own (after `--`). */
  args: string[];
  env: Record<string, string>;
  files: string[];
}

/**
 * One lease's part of a client file jit keeps for GUI clients under `$JIT_HOME/clients/`
 * (Engine.clientFiles): a pgpass line, a pg_service.conf section, a MySQL option file.
 */
export interface ClientFileEntry {
  /** The file's name in that directory: `pgpass`, `pg_service.conf`, `jit-shop-readonly.cnf`. */
  file: string;
  /** This lease's lines, each ending in a newline. */
  text: string;
  /**
   * Entries of one file with the same slot are alternatives (one service name): only the newest
   * live lease's is written. Without a slot, every lease's entry is.
   */
  slot?: string;
}

/** What Engine.clientFiles gives `jit uri --format service|pgpass`. */
export interface ClientFiles {
  entries: ClientFileEntry[];
  /** The line `--format service` prints: how a client names these entries (`service=jit-…`, an option file's path). */
  service: string;
  /** The URI without its password, which `--format pgpass` prints; absent where no client reads a password file. */
  passwordless?: string;
}

/** One line of `jit doctor`, reported by an engine. */
export interface ServerCheck {
  /** Short name, e.g. `pg_hba.conf`; doctor prefixes the database's name. */
  name: string;
  ok: boolean;
  detail: string;
  /** Worth knowing, not a failure. */
  warning?: true;
}

/** An admin connection to one server. Engines translate driver errors into JitError at this boundary. */
export interface AdminSession {
  /** Create the login with its grants and marker, all or nothing. */
  mint(req: MintRequest): Promise<MintResult>;
  /** Block login, end sessions, remove what it owns, drop it. Succeeds when the login is already gone. */
  revoke(req: RevokeRequest): Promise<RevokeResult>;
  /**
   * Revoke many logins of this server together: block them all in one transaction, end every
   * session at once, then drop them in batches. One result per request, in request order; a
   * login whose session survives stays blocked and is reported, not dropped.
   */
  revokeMany(requests: RevokeRequest[]): Promise<RevokeResult[]>;
  /** Move the server-side expiry and the marker. */
  extend(req: ExtendRequest): Promise<void>;
  /** Every jit login on this server, found through the marker. */
  listLogins(): Promise<ServerLogin[]>;
  /** Live sessions of jit logins. */
  sessions(): Promise<LoginSession[]>;
  serverTime(): Promise<Date>;
  /** Checks the admin can do what jit needs; returns problems found (empty when fine). */
  checkPrivileges(): Promise<string[]>;
  /**
   * What the admin may do beyond what jit needs, worth a warning but no failure (PostgreSQL ≤ 15:
   * CREATEROLE can grant itself pg_execute_server_program, so it is near-superuser).
   */
  privilegeWarnings?(): Promise<string[]>;
  /** What the admin could not grant of these grants and group roles (missing objects, no grant option). */
  checkGrants(grants: Grant[], memberOf: string[]): Promise<string[]>;
  /**
   * What `jit doctor` should say about how the server itself holds expiry for logins of
   * `database` that are members of `memberOf` (Postgres: pg_hba.conf lines that skip the password
   * and so VALID UNTIL, and which backstop ends sessions open at expiry, pg_cron or none; MySQL:
   * the event scheduler, anonymous accounts).
   */
  expiryChecks(database: string, memberOf: string[]): Promise<ServerCheck[]>;
  /**
   * Remove the server-side expiry jobs (PostgreSQL: pg_cron) of logins that are gone; their
   * names. Absent: the engine's backstop cleans up after itself (MariaDB's events).
   */
  sweepBackstops?(): Promise<string[]>;
  /**
   * Interrupt the statement this session is running (a mint waiting for a lock), from another
   * connection: it fails and its transaction rolls back. Absent: the caller waits for it.
   */
  cancel?(): Promise<void>;
  close(): Promise<void>;
}

/** An engine: one per `engine:` value in the policy. */
export interface Engine {
  readonly name: EngineName;
  readonly profile: EngineProfile;
  /** `jit admin bootstrap`: the dedicated admin's statements, printed or applied as a DBA. */
  readonly bootstrap?: EngineBootstrap;
  /** Connect as the admin. Throws JitError (exit 1) with a hint on auth/network failures. */
  connectAdmin(target: ServerTarget, adminPassword: string): Promise<AdminSession>;
  /** `postgresql://user:pass@host:port/db?sslmode=…` / `mysql://…`, userinfo percent-encoded. */
  buildUri(target: ServerTarget, login: string, password: string, opts?: HandoutOptions): string;
  /**
   * The JDBC URL of a login (`jdbc:postgresql://…` / `jdbc:mysql://…`), user and password as
   * parameters. Throws a usage error for a target no JDBC driver can reach (a socket directory).
   */
  buildJdbcUrl(target: ServerTarget, login: string, password: string, opts?: HandoutOptions): string;
  /** The client's own variables (PGHOST, PGUSER, PGPASSWORD… / MYSQL_*). */
  clientEnv(target: ServerTarget, login: string, password: string, opts?: HandoutOptions): Record<string, string>;
  /**
   * This login's entries in the client files under `dir` (absolute), named `service`
   * (`jit-<database>-<role>`), for GUI clients and tools pointed at those files once.
   */
  clientFiles(target: ServerTarget, login: string, password: string, ctx: { service: string; dir: string }): ClientFiles;
  /**
   * Prepare the interactive client's launch; `dir` is a private (0700) directory for any file
   * holding the password.
   */
  clientLaunch(target: ServerTarget, login: string, password: string, dir: string, opts?: HandoutOptions): Promise<ClientLaunch>;
}
