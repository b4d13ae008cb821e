import { parseArgs, type ParseArgsConfig } from 'node:util';
import { HOT_COMMANDS, MINT_OPTIONS, ENV_FORMATS, EXEC_OPTIONS, URI_FORMATS } from './hot-commands.js';
import { systemIO } from './io.js';
import { systemDeps } from './deps.js';

export interface FastInvocation {
  command: keyof typeof HOT_COMMANDS;
  /** Positionals as commander would hand them over: [database, rest…]. */
  args: unknown[];
  opts: Record<string, unknown>;
}

/**
 * Parse `jit uri|env|exec|connect …` with node's parseArgs instead of loading commander, which
 * is a tenth of `jit uri`'s start-up. Returns null for anything it does not fully understand
 * (help, an unknown or malformed flag, extra arguments): commander then parses it and explains.
 */
export function parseFast(argv: string[]): FastInvocation | null {
  const command = argv[0] as keyof typeof HOT_COMMANDS;
  if (!Object.hasOwn(HOT_COMMANDS, command)) return null;
  const options: NonNullable<ParseArgsConfig['options']> = {
    policy: { type: 'string' },
    json: { type: 'boolean' },
    'no-color': { type: 'boolean' },
    quiet: { type: 'boolean', short: 'q' },
    debug: { type: 'boolean' },
  };
  for (const o of MINT_OPTIONS) options[o.name] = { type: 'string' };
  if (command === 'env' || command === 'uri') options.format = { type: 'string' };
  if (command === 'exec') for (const o of EXEC_OPTIONS) options[o.name] = { type: 'string' };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv.slice(1), options, allowPositionals: true, strict: true, tokens: true });
  } catch {
    return null;
  }
  const v = parsed.values as Record<string, string | boolean | undefined>;
  if (command === 'env' && v.format !== undefined && !(ENV_FORMATS as readonly unknown[]).includes(v.format)) return null;
  if (command === 'uri' && v.format !== undefined && !(URI_FORMATS as readonly unknown[]).includes(v.format)) return null;
  const terminator = parsed.tokens!.findIndex((t) => t.kind === 'option-terminator');
  const beforeTerminator = parsed.tokens!.filter((t, i) => t.kind === 'positional' && (terminator < 0 || i < terminator)).length;
  const positionals = parsed.positionals;
  const opts: Record<string, unknown> = {};
  for (const [k, val] of Object.entries(v)) if (val !== undefined && k !== 'no-color') opts[k] = val;
  opts.color = v['no-color'] ? false : true;
  if (command === 'env') opts.format ??= 'sh';
  if (command === 'uri') opts.format ??= 'uri';
  if (command === 'exec' || command === 'connect') {
    if (terminator >= 0) opts.afterDashDash = positionals.slice(beforeTerminator);
    return { command, args: [positionals[0], positionals.slice(1)], opts };
  }
  if (positionals.length > 1 || (terminator >= 0 && beforeTerminator !== positionals.length)) return null;
  return { command, args: [positionals[0]], opts };
}

/** Run a command parsed by parseFast, with the system's deps. */
export async function runFast(inv: FastInvocation, env: NodeJS.ProcessEnv, ctx: { entryScript: string; cwd: string }): Promise<number> {
  const { run } = await HOT_COMMANDS[inv.command]();
  const io = systemIO(inv.opts, env);
  return run(inv.args, inv.opts, systemDeps({ io, env, cwd: ctx.cwd, policyFlag: inv.opts.policy as string | undefined, entryScript: ctx.entryScript }));
}
