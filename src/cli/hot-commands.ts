import type { Deps } from './deps.js';

/** args: the command's declared positionals in order (a variadic one is an array). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each command types its own positionals and flags
export type Runner = (args: any, opts: any, deps: Deps) => Promise<number>;
export type Loader = () => Promise<{ run: Runner }>;

/** The commands that mint: scripts run them often, so their start-up is kept short. */
export const HOT_COMMANDS: Record<'connect' | 'uri' | 'env' | 'exec', Loader> = {
  connect: () => import('./commands/connect.js'),
  uri: () => import('./commands/uri.js'),
  env: () => import('./commands/env.js'),
  exec: () => import('./commands/exec.js'),
};

/** Their options, declared once for commander (help, errors) and for the fast parser. */
export const MINT_OPTIONS = [
  { name: 'role', arg: '<role>', about: 'role from the policy' },
  { name: 'ttl', arg: '<duration>', about: "lifetime, e.g. 15m or 1h30m (default: the role's ttl)" },
  { name: 'reason', arg: '<text>', about: 'why you need access (recorded in the audit trail)' },
  { name: 'only', arg: '<tables>', about: "narrow this request to some of the role's tables, comma-separated" },
] as const;

export const ENV_FORMATS = ['sh', 'fish', 'dotenv', 'json'] as const;

/** `jit uri --format`: the URI, a JDBC URL, or entries in the client files GUIs read. */
export const URI_FORMATS = ['uri', 'jdbc', 'service', 'pgpass'] as const;

/** `exec`'s own options, declared once for commander and the fast parser. */
export const EXEC_OPTIONS = [{ name: 'var', arg: '<name>', about: 'also put the URI in this variable (DATABASE_URL is always set)' }] as const;
