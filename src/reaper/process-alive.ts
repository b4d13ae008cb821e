import { readFileSync } from 'node:fs';
import type { LeaseOwner } from '../leases/lease.js';

/**
 * A marker of when a process started (Linux: field 22 of /proc/PID/stat, in clock ticks since
 * boot), so a pid recycled by a new process is not mistaken for the lease's owner.
 * Elsewhere '' — the pid alone is used.
 */
export function processStartMarker(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm (field 2) may contain spaces and parentheses: split after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return rest[19] ?? '';
  } catch {
    return '';
  }
}

export function currentOwner(): LeaseOwner {
  return { pid: process.pid, started: processStartMarker(process.pid) };
}

export function isOwnerAlive(owner: LeaseOwner): boolean {
  try {
    process.kill(owner.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (!owner.started) return true;
  const now = processStartMarker(owner.pid);
  return now === '' || now === owner.started;
}
