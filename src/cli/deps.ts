import { loadEngine } from '../engines/registry.js';
import type { IO } from './io.js';
import type { Prompter } from './prompter.js';
import type { Policy } from '../policy/types.js';
import type { Keychain } from '../secrets/keychain.js';
import type { LifecycleUI, MintDeps } from '../lifecycle/context.js';
import { canPrompt } from './io.js';
import { notice } from './output.js';
import { spin } from './spinner.js';
import { LeaseStore } from '../leases/lease-store.js';
import { AuditLog } from '../leases/audit-log.js';
import { stateDir } from '../leases/paths.js';
import { currentRequester } from '../core/requester.js';
import { NO_REAPER } from '../lifecycle/context.js';
import { reaperHandOff } from '../reaper/reaper-client.js';

/**
 * Everything a command touches in the outside world; tests swap in their own. The lease
 * lifecycle sees only the part of it that it needs (MintDeps and below, src/lifecycle/context.ts).
 */
export interface Deps extends MintDeps {
  io: IO;
  cwd: string;
  stateDir: string;
  /** The policy named by --policy / $JIT_POLICY / ./jit.yaml / XDG config; loaded on first use. */
  policy(): Promise<Policy>;
  prompter(): Promise<Prompter>;
  /** Path to the jit entry script, for starting the reaper (`node <entry> __reaper`). */
  entryScript: string;
  /** Whether the detached reaper may be started (tests of pure commands turn it off). */
  startReaper: boolean;
}

/** The lifecycle's view of the terminal: notices, a spinner and questions, all on stderr. */
export function terminalUI(io: IO, prompter: () => Promise<Prompter>): LifecycleUI {
  return {
    notice: (text) => notice(io, text),
    spinner: (text) => spin(io, text),
    canPrompt: () => canPrompt(io),
    asker: prompter,
    terminal: io.stdinIsTTY,
  };
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
  const prompter = () => import('./prompter.js').then((m) => m.inquirerPrompter(opts.io));
  const startReaper = opts.env.JIT_NO_REAPER !== '1';
  // Shown even with --json (it is a problem, not a notice); --quiet silences it.
  const warn = (line: string) => {
    if (!opts.io.quiet) opts.io.stderr.write(`${line}\n`);
  };
  return {
    io: opts.io,
    ui: terminalUI(opts.io, prompter),
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
    prompter,
    engine: loadEngine,
    entryScript: opts.entryScript,
    startReaper,
    reaper: startReaper ? reaperHandOff({ env: opts.env, stateDir: root, entryScript: opts.entryScript }, warn) : NO_REAPER,
  };
}
