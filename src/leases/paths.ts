import { join } from 'node:path';
import { homedir } from 'node:os';

/** `$JIT_HOME`, else `$XDG_STATE_HOME/jit`, else `~/.local/state/jit`. */
export function stateDir(env: NodeJS.ProcessEnv): string {
  if (env.JIT_HOME) return env.JIT_HOME;
  const xdgState = env.XDG_STATE_HOME || join(env.HOME || homedir(), '.local', 'state');
  return join(xdgState, 'jit');
}

export interface StatePaths {
  root: string;
  leases: string;
  audit: string;
  reaperSocket: string;
  reaperLog: string;
}

export function statePaths(root: string): StatePaths {
  return {
    root,
    leases: join(root, 'leases'),
    audit: join(root, 'audit.jsonl'),
    reaperSocket: join(root, 'reaper.sock'),
    reaperLog: join(root, 'reaper.log'),
  };
}
