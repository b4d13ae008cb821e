import { parseArgs, type ParseArgsConfig } from 'node:util';
import { findCommand, GLOBAL_OPTIONS, parseFlags, type CommandSpec, type OptionSpec } from './command-table.js';
import { systemIO } from './io.js';
import { systemDeps } from './deps.js';
import { runCommand } from './run-command.js';

export interface FastInvocation {
  /** The command's names below `jit`, e.g. ['admin', 'set'] (an alias as its command's name). */
  path: string[];
  spec: CommandSpec;
  /** Operands as commander hands them over: one per declared operand, a variadic one an array. */
  args: unknown[];
  opts: Record<string, unknown>;
}

/**
 * Parse argv with node's parseArgs from the command table instead of loading commander (~10 ms
 * of CPU, a fifth of `jit list`'s start-up). Returns null for anything it does not fully understand (help,
 * no command, an unknown or malformed flag, a missing or extra operand, a value outside a flag's
 * choices): commander then parses it and explains. Where it answers, it answers as commander
 * would (fast-path.test.ts holds the two to a corpus of command lines).
 */
export function parseFast(argv: string[]): FastInvocation | null {
  const path: string[] = [];
  // Global flags may come before the command (`jit --json list`): they are parsed with the rest.
  let at = 0;
  for (let f; (f = GLOBAL_FLAGS.find((g) => argv[at] === `--${g.long}` || (g.short && argv[at] === `-${g.short}`) || argv[at]?.startsWith(`--${g.long}=`))); ) {
    at += f.takesValue && argv[at] === `--${f.long}` ? 2 : 1;
  }
  let spec = findCommand(argv[at]);
  let rest = argv.slice(at + 1);
  if (spec) path.push(spec.name);
  if (spec?.subcommands) {
    spec = findCommand(rest[0], spec.subcommands);
    rest = rest.slice(1);
    if (spec) path.push(spec.name);
  }
  const words = [...argv.slice(0, at), ...rest];
  if (!spec?.load) return null;
  const declared = [...GLOBAL_OPTIONS, ...spec.options];
  const options: NonNullable<ParseArgsConfig['options']> = {};
  for (const o of declared) {
    const f = parseFlags(o.flags);
    options[f.long] = { type: f.takesValue ? 'string' : 'boolean', ...(f.short ? { short: f.short } : {}) };
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: words, options, allowPositionals: true, strict: true, tokens: true });
  } catch {
    return null;
  }
  // `-qy`: commander reads a group's letters as the program's and the command's flags in turn,
  // refusing some orders parseArgs accepts; it decides.
  if (parsed.tokens!.some((t) => t.kind === 'option' && t.rawName.length === 2 && words[t.index] !== t.rawName)) return null;
  const opts = optionValues(declared, parsed.values as Record<string, string | boolean | undefined>);
  if (!opts) return null;
  const positionals = parsed.positionals;
  const args: unknown[] = [];
  for (const [i, operand] of spec.operands.entries()) {
    if (operand.required && positionals[i] === undefined) return null;
    args.push(operand.variadic ? positionals.slice(i) : positionals[i]);
  }
  if (!spec.operands.at(-1)?.variadic && positionals.length > spec.operands.length) return null;
  if (spec.dashDash) {
    const at = parsed.tokens!.findIndex((t) => t.kind === 'option-terminator');
    if (at >= 0) opts.afterDashDash = positionals.slice(parsed.tokens!.slice(0, at).filter((t) => t.kind === 'positional').length);
  }
  return { path, spec, args, opts };
}

const GLOBAL_FLAGS = GLOBAL_OPTIONS.map((o) => parseFlags(o.flags));

/** Values under commander's keys, with its defaults; null where commander would refuse them. */
function optionValues(declared: readonly OptionSpec[], values: Record<string, string | boolean | undefined>): Record<string, unknown> | null {
  const opts: Record<string, unknown> = {};
  for (const o of declared) {
    const f = parseFlags(o.flags);
    const value = values[f.long];
    if (value === undefined) {
      if (o.required) return null;
      if (f.negate) opts[f.key] = true;
      else if (o.default !== undefined) opts[f.key] = o.default;
      continue;
    }
    if (o.choices && !o.choices.includes(value as string)) return null;
    opts[f.key] = f.negate ? false : value;
  }
  return opts;
}

/** Run a command parsed by parseFast, with the system's deps. */
export async function runFast(inv: FastInvocation, env: NodeJS.ProcessEnv, ctx: { entryScript: string; cwd: string }): Promise<number> {
  const io = systemIO(inv.opts, env);
  const deps = systemDeps({ io, env, cwd: ctx.cwd, policyFlag: inv.opts.policy as string | undefined, entryScript: ctx.entryScript });
  return runCommand(inv.spec, inv.args, inv.opts, deps);
}
