import type { DatabaseConfig } from '../policy/types.js';
import type { ServerTarget } from './engine.js';

/**
 * `jit admin bootstrap`: the statements that make a policy database's dedicated admin, with
 * exactly the privileges its policy needs (DESIGN §9: the one place that knows them all).
 */
export interface BootstrapStep {
  /** One statement, names quoted by the engine. */
  sql: string;
  /** What it is for, for the comment beside it: `role readonly`, `revoke --all when full`. */
  why: string;
  /** Printed as a comment only: it applies to some servers (a version, PUBLIC without CONNECT). */
  conditional?: string;
}

/** A privilege the admin holds that the policy no longer needs, and the statement that removes it. */
export interface UnneededGrant {
  what: string;
  revoke: string;
}

export interface BootstrapReport {
  /** The server the plan was computed for, e.g. `PostgreSQL 18.4`. */
  server: string;
  /** Run now, in one transaction where the engine has them. */
  added: BootstrapStep[];
  /** Already held: nothing run. */
  present: BootstrapStep[];
  unneeded: UnneededGrant[];
  /** The admin login was created by this run (so its password was set from the policy's source). */
  created: boolean;
}

/** The DBA who runs the bootstrap: a superuser (or a managed service's admin role). Never stored. */
export interface DbaCredential {
  user: string;
  password: string;
}

export interface EngineBootstrap {
  /** The default DBA account: `postgres`, `root`. */
  readonly defaultDba: string;
  /** The statements for any server version, to print (those for some servers as `conditional`). */
  plan(db: DatabaseConfig): BootstrapStep[];
  /**
   * Log in as the DBA, add what the admin lacks (creating it, with the password `adminPassword`
   * gives, when it does not exist), and list what it holds beyond the policy.
   */
  apply(target: ServerTarget, dba: DbaCredential, db: DatabaseConfig, adminPassword: () => Promise<string>): Promise<BootstrapReport>;
}
