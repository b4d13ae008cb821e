import { hostname, userInfo } from 'node:os';
import type { IO } from './io.js';
import type { Prompter } from './prompter.js';
import type { Policy, EngineName } from '../policy/types.js';
import type { Engine } from '../engines/engine.js';
import type { Keychain } from '../secrets/keychain.js';
import { LeaseStore } from '../leases/lease-store.js';
import { AuditLog } from '../leases/audit-log.js';
import { stateDir } from '../leases/paths.js';

/** Who is asking: recorded in the login name, the server marker and the audit trail. */
export interface Requester {
  user: string;
  host: string;
}

/** Everything a command touches in the outside world; tests swap in their own. */
export interface Deps {
  io: IO;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Wall clock in ms. */
  now(): number;
  stateDir: string;
  leases: LeaseStore;
  audit: AuditLog;
  requester: Requester;
  /** The policy named by --policy / $JIT_POLICY / ./jit.yaml / XDG config; loaded on first use. */
  policy(): Promise<Policy>;
  keychain(): Promise<Keychain>;
  prompter(): Promise<Prompter>;
  engine(name: EngineName): Promise<Engine>;
  /** Path to the jit entry script, for starting the reaper (`node <entry> __reaper`). */
  entryScript: string;
  /** Whether the detached reaper may be started (tests of pure commands turn it off). */
  startReaper: boolean;
}

export function currentRequester(env: NodeJS.ProcessEnv): Requester {
  let user = env.JIT_REQUESTER || '';
  if (!user) {
    try {
      user = userInfo().username;
    } catch {
      user = env.USER || env.USERNAME || 'unknown';
    }
  }
  return { user, host: hostname() };
}

export interface SystemDepsOptions {
  io: IO;
  env: NodeJS.ProcessEnv;
  cwd: string;
  policyFlag?: string;
  entryScript: string;
}

export function systemDeps(opts: SystemDepsOptions): Deps {
  const root = stateDir(opts.env);
  let policy: Promise<Policy> | undefined;
  let keychain: Promise<Keychain> | undefined;
  return {
    io: opts.io,
    env: opts.env,
    cwd: opts.cwd,
    now: () => Date.now(),
    stateDir: root,
    leases: new LeaseStore(root),
    audit: new AuditLog(root),
    requester: currentRequester(opts.env),
    policy: () =>
      (policy ??= import('../policy/load.js').then((m) => m.loadPolicy({ flag: opts.policyFlag, env: opts.env, cwd: opts.cwd, cacheDir: root }))),
    keychain: () => (keychain ??= import('../secrets/os-keychain.js').then((m) => m.openOsKeychain())),
    prompter: () => import('./prompter.js').then((m) => m.inquirerPrompter(opts.io)),
    engine: (name) => import('../engines/registry.js').then((m) => m.loadEngine(name)),
    entryScript: opts.entryScript,
    startReaper: opts.env.JIT_NO_REAPER !== '1',
  };
}
