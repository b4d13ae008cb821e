import { escapeControl } from '../core/terminal-text.js';
import { Command, CommanderError, Option } from 'commander';
import { systemIO } from './io.js';
import { systemDeps, type Deps } from './deps.js';
import { commandPath, usageFromCommander } from './usage-errors.js';
import { COMMANDS, DESCRIPTION, examplesText, GLOBAL_OPTIONS, GROUPS, HELP_COMMAND, operandSpec, ROOT_EXAMPLES, ROOT_HELP_AFTER, VERSION, type CommandSpec, type OptionSpec } from './command-table.js';
import { runCommand } from './run-command.js';

/** Options every command sees (global flags merged with the command's own). */
export interface GlobalOptions {
  policy?: string;
  json?: boolean;
  color?: boolean;
  quiet?: boolean;
  debug?: boolean;
}

export interface ProgramContext {
  entryScript: string;
  cwd: string;
  /** Tests inject their own deps; otherwise the system's. */
  deps?: (opts: GlobalOptions) => Deps;
  /** Tests: the help width commander would take from the terminal. */
  helpWidth?: number;
  /** Tests of the parsing alone: called instead of the command's implementation. */
  run?: (path: string[], args: unknown[], opts: Record<string, unknown>) => Promise<number>;
}

/** Every help example with the command whose help shows it (tests run each through the parser). */
export function helpExamples(): Array<{ path: string[]; line: string }> {
  const out = ROOT_EXAMPLES.map(([line]) => ({ path: [] as string[], line }));
  const walk = (spec: CommandSpec, parent: string[]) => {
    const path = [...parent, spec.name];
    for (const [line] of spec.examples) out.push({ path, line });
    for (const sub of spec.subcommands ?? []) walk(sub, path);
  };
  for (const spec of COMMANDS) walk(spec, []);
  return out;
}

/** A commander option from the table's. */
function toOption(o: OptionSpec): Option {
  const option = new Option(o.flags, o.about);
  if (o.choices) option.choices([...o.choices]);
  if (o.default !== undefined) option.default(o.default);
  if (o.required) option.makeOptionMandatory();
  return option;
}

/**
 * Commander drops `--`; `exec` needs to know where the child's argv starts. The terminator is
 * the first `--` whose remaining argv is the tail of the operands commander collected (an
 * earlier `--` was an option's value, e.g. `--reason --`).
 */
function argsAfterDashDash(argv: string[], operands: unknown[]): string[] | undefined {
  const ops = operands.filter((o): o is string => typeof o === 'string');
  for (let p = argv.indexOf('--'); p >= 0; p = argv.indexOf('--', p + 1)) {
    const tail = argv.slice(p + 1);
    if (tail.length <= ops.length && tail.every((a, i) => a === ops[ops.length - tail.length + i])) return tail;
  }
  return undefined;
}

export async function runProgram(argv: string[], env: NodeJS.ProcessEnv, ctx: ProgramContext): Promise<number> {
  let exitCode = 0;
  const program = new Command('jit')
    .description(DESCRIPTION)
    .version(VERSION, '-V, --version')
    // Usage errors are thrown as JitErrors for main to print; commander itself prints only help.
    .configureOutput({ writeErr: (s) => process.stderr.write(escapeControl(s, '\n')), writeOut: (s) => process.stdout.write(s), outputError: () => {} })
    .addHelpText('after', ROOT_HELP_AFTER);
  const helpWidth = ctx.helpWidth;
  if (helpWidth !== undefined) program.configureOutput({ getOutHelpWidth: () => helpWidth });
  for (const o of GLOBAL_OPTIONS) program.addOption(toOption(o));

  const makeDeps = (opts: GlobalOptions): Deps =>
    ctx.deps ? ctx.deps(opts) : systemDeps({ io: systemIO(opts, env), env, cwd: ctx.cwd, policyFlag: opts.policy, entryScript: ctx.entryScript });

  const usage = (c: Command) =>
    c.exitOverride((err) => {
      // --help and --version succeed; help shown because no command was given is a usage error.
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') throw err;
      throw usageFromCommander(err, c, argv);
    });

  const attach = (parent: Command, spec: CommandSpec, group?: string) => {
    const c = usage(parent.command([spec.name, ...spec.operands.map(operandSpec)].join(' ')).description(spec.about)).addHelpText('after', examplesText(spec.examples));
    if (group) c.helpGroup(group);
    for (const alias of spec.aliases ?? []) c.alias(alias);
    for (const o of spec.options) c.addOption(toOption(o));
    for (const sub of spec.subcommands ?? []) attach(c, sub);
    if (!spec.load) return;
    c.action(async (...params: unknown[]) => {
      const cmd = params[params.length - 1] as Command;
      const opts = cmd.optsWithGlobals() as Record<string, unknown>;
      const after = spec.dashDash ? argsAfterDashDash(argv, (cmd.processedArgs as unknown[]).flat()) : undefined;
      if (after) opts.afterDashDash = after;
      if (ctx.run) {
        exitCode = await ctx.run(commandPath(cmd), cmd.processedArgs, opts);
        return;
      }
      exitCode = await runCommand(spec, cmd.processedArgs, opts, makeDeps(opts as GlobalOptions));
    });
  };

  usage(program);
  for (const group of GROUPS) for (const spec of group.commands) attach(program, spec, group.title);
  program.commandsGroup('Help:').helpCommand(HELP_COMMAND.spec, HELP_COMMAND.about);

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    // Help shown because no command was given (exit code 1 from commander) is a usage error.
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    throw err;
  }
  return exitCode;
}
