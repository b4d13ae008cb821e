import type { Grant } from '../policy/types.js';

/**
 * What a policy role's group role is built from, on any engine that keeps a role's grants in a
 * group (PostgreSQL 16+: postgres-group.ts; MariaDB: mysql-group.ts).
 */
export interface GroupSpec {
  /** The policy's name for the database (the key under `databases:`). */
  policyDatabase: string;
  /** The policy's `database:`: on PostgreSQL the grants live in its catalogs; on MariaDB its default schema. */
  database: string;
  role: string;
  /**
   * The admin that mints: each admin has groups of its own, since only the creator of a group
   * holds ADMIN OPTION on it (PostgreSQL 16+; MariaDB: the account, user@host), and on
   * PostgreSQL a REVOKE removes only the revoking role's own grants: a group shared by two
   * admins could be neither joined nor rebuilt by the one that did not build it.
   */
  admin: string;
  grants: Grant[];
  memberOf: string[];
}
