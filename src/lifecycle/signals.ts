import { readFileSync } from 'node:fs';

/**
 * Whether this process is in the foreground process group of its controlling terminal (Linux:
 * /proc/self/stat pgrp == tpgid). Then Ctrl-C and Ctrl-\ reach the child from the terminal
 * directly, and forwarding them would deliver them twice (many tools read a second interrupt
 * as "force quit"). null where /proc is not available.
 */
export function inTerminalForeground(): boolean | null {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const [pgrp, ttyNr, tpgid] = [Number(f[2]), Number(f[4]), Number(f[5])];
    return ttyNr !== 0 && tpgid === pgrp;
  } catch {
    return null;
  }
}
