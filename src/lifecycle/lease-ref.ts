import type { Lease } from '../leases/lease.js';
import type { AdminRef } from './admin-access.js';

export function adminRefOf(lease: Lease): AdminRef {
  return { database: lease.database, target: lease.target, adminSource: lease.adminSource };
}
