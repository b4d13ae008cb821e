import { appendFileSync, renameSync, statSync } from 'node:fs';
import { redact } from '../core/redact.js';

const MAX_BYTES = 1 << 20;

/** The reaper's log under $JIT_HOME: one redacted line per event, rotated at 1 MiB. */
export function reaperLogger(file: string): (line: string) => void {
  return (line: string) => {
    try {
      if ((statSync(file, { throwIfNoEntry: false })?.size ?? 0) > MAX_BYTES) renameSync(file, `${file}.1`);
      appendFileSync(file, `${new Date().toISOString()} ${redact(line)}\n`, { mode: 0o600 });
    } catch {
      // logging must never stop revocation
    }
  };
}
