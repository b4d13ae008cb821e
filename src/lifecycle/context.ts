import type { Engine } from '../engines/engine.js';
import type { Lease } from '../leases/lease.js';
import type { LeaseStore } from '../leases/lease-store.js';
import type { AuditLog } from '../leases/audit-log.js';
import type { EngineName, Policy } from '../policy/types.js';
import type { Keychain } from '../secrets/keychain.js';
import type { Requester } from '../core/requester.js';

// What the lease lifecycle needs from the outside world, in layers: the reaper has the first
// two and nothing more (no policy, no person to ask); a command has them all (cli's Deps).

/** What opening an admin session needs: where secrets come from, and the engines. */
export interface AdminAccessDeps {
  env: NodeJS.ProcessEnv;
  keychain(): Promise<Keychain>;
  engine(name: EngineName): Promise<Engine>;
}

/** What revoking and reconciling leases need: the reaper has exactly this. */
export interface LeaseDeps extends AdminAccessDeps {
  /** Wall clock in ms. */
  now(): number;
  leases: LeaseStore;
  audit: AuditLog;
  /** Recorded as the actor of every revocation in the audit trail. */
  requester: Requester;
}

/** What minting and running a leased child need on top: the policy, a person, the reaper. */
export interface MintDeps extends LeaseDeps {
  /** The policy, loaded on first use. */
  policy(): Promise<Policy>;
  ui: LifecycleUI;
  reaper: ReaperHandOff;
}

/** A question with a list of answers, or a line of text (cli's Prompter has these and more). */
export interface Asker {
  select(message: string, choices: Array<{ name: string; value: string; description?: string }>): Promise<string>;
  input(message: string): Promise<string>;
}

/** What the lifecycle says to, and asks of, the person at the terminal; cli supplies it. */
export interface LifecycleUI {
  /** A line for people (stderr), silent with --quiet or --json. */
  notice(text: string): void;
  /** Show that slow work is going on, until stop(); nothing where no person watches. */
  spinner(text: string): { stop(): void };
  /** Whether a person can answer a question now (a terminal for input and for the prompt). */
  canPrompt(): boolean;
  asker(): Promise<Asker>;
  /** stdin is a terminal: then it signals the whole foreground group itself (runChild). */
  readonly terminal: boolean;
}

/**
 * How a minting command hands its lease to the detached reaper (DESIGN §4): the reaper must
 * hold the admin credential in memory, because it cannot count on reaching the keychain later.
 */
export interface ReaperHandOff {
  /** Start the reaper early, while the login is being created, if none is listening yet. */
  prestart(): void;
  /**
   * Make sure the reaper watches this lease and holds the admin credential for it; a reaper
   * that cannot be reached is reported (the server's expiry and `jit reap` remain).
   */
  handOff(lease: Lease, secret: string): Promise<void>;
}

/** No reaper (JIT_NO_REAPER=1, tests of pure commands): expiry relies on the server and `jit reap`. */
export const NO_REAPER: ReaperHandOff = {
  prestart() {},
  handOff: async () => {},
};
