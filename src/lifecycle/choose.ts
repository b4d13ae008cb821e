import type { LifecycleUI } from './context.js';
import type { Policy } from '../policy/types.js';
import { usageError } from '../core/errors.js';

/**
 * Fill in a missing database, role or reason: ask on a TTY, otherwise fail with exit 2 naming
 * the flag. A database with one role needs no question.
 */
export async function chooseTarget(
  policy: Policy,
  req: { database?: string; role?: string; reason?: string },
  deps: { ui: LifecycleUI },
): Promise<{ database: string; role: string; reason?: string }> {
  let { database, role, reason } = req;
  const names = Object.keys(policy.databases);
  if (!database) {
    if (names.length === 1) database = names[0];
    else if (deps.ui.canPrompt()) {
      const p = await deps.ui.asker();
      database = await p.select('Database', names.map((n) => ({ name: n, value: n, description: describeDb(policy, n) })));
    } else throw usageError('missing database', `pass it as the first argument, one of: ${names.join(', ')}`);
  }
  const db = policy.databases[database!];
  if (db && !role) {
    const roles = Object.keys(db.roles);
    if (roles.length === 1) role = roles[0];
    else if (deps.ui.canPrompt()) {
      const p = await deps.ui.asker();
      role = await p.select(`Role on ${database}`, roles.map((r) => ({ name: r, value: r })));
    } else throw usageError('missing --role', `pass --role, one of: ${roles.join(', ')}`);
  }
  const roleCfg = db?.roles[role!];
  if (roleCfg?.requireReason && !reason?.trim() && deps.ui.canPrompt()) {
    const p = await deps.ui.asker();
    reason = await p.input(`Reason for ${role} on ${database} (recorded in the audit trail)`);
  }
  return { database: database!, role: role!, ...(reason !== undefined ? { reason } : {}) };
}

function describeDb(policy: Policy, name: string): string {
  const db = policy.databases[name]!;
  return `${db.engine} ${db.host}:${db.port}/${db.database}`;
}
