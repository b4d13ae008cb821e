import { closeSync, constants, openSync, renameSync, statSync, writeSync } from 'node:fs';
import { redact } from '../core/redact.js';

const MAX_BYTES = 1 << 20;

/** The reaper's log under $JIT_HOME: one redacted line per event, rotated at 1 MiB. */
export function reaperLogger(file: string): (line: string) => void {
  return (line: string) => {
    try {
      if ((statSync(file, { throwIfNoEntry: false })?.size ?? 0) > MAX_BYTES) renameSync(file, `${file}.1`);
      // O_NOFOLLOW: a symlink planted as reaper.log must not make the reaper append elsewhere.
      const fd = openSync(file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | (constants.O_NOFOLLOW ?? 0), 0o600);
      try {
        writeSync(fd, `${new Date().toISOString()} ${redact(line)}\n`);
      } finally {
        closeSync(fd);
      }
    } catch {
      // logging must never stop revocation
    }
  };
}
