import { join, resolve } from 'node:path';
import { homedir } from 'node:os';

/** `$JIT_HOME`, else `$XDG_STATE_HOME/jit`, else `~/.local/state/jit`. */
export function stateDir(env: NodeJS.ProcessEnv): string {
  // Normalised (no trailing slash, absolute): the reaper compares it with its socket's directory.
  if (env.JIT_HOME) return resolve(env.JIT_HOME);
  const xdgState = env.XDG_STATE_HOME || join(env.HOME || homedir(), '.local', 'state');
  return resolve(xdgState, 'jit');
}

export interface StatePaths {
  root: string;
  leases: string;
  audit: string;
  reaperSocket: string;
  reaperLog: string;
  /** Client files for GUIs (pgpass, pg_service.conf, option files), at fixed paths. */
  clients: string;
  /** Each lease's part of them, from which they are rebuilt. */
  clientEntries: string;
}

export function statePaths(root: string): StatePaths {
  return {
    root,
    leases: join(root, 'leases'),
    audit: join(root, 'audit.jsonl'),
    reaperSocket: join(root, 'reaper.sock'),
    reaperLog: join(root, 'reaper.log'),
    clients: join(root, 'clients'),
    clientEntries: join(root, 'clients', 'entries'),
  };
}
