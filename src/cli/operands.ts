import { usageError } from '../core/errors.js';

/**
 * `jit exec|connect [DB] … -- ARGS…`: commander hands over all operands (those after `--` too)
 * as [database, rest]; split them into the database before `--` and the arguments after it.
 * Without `--`, `noDashDash` says what the operands after the database are (exec: the command).
 */
export function splitAtDashDash(
  database: string | undefined,
  rest: string[] | undefined,
  afterDashDash: string[] | undefined,
  usage: string,
  noDashDash: 'child' | 'refuse',
): { database?: string; args: string[] } {
  const operands = [database, ...(rest ?? [])].filter((a): a is string => a !== undefined);
  const args = afterDashDash ?? (noDashDash === 'child' ? operands.slice(1) : []);
  const before = operands.slice(0, operands.length - args.length);
  if (before.length > 1) throw usageError(`unexpected argument "${before[1]}"${afterDashDash ? ' before --' : ''}`, usage);
  return { ...(before[0] !== undefined ? { database: before[0] } : {}), args };
}
