import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { Command, CommanderError } from 'commander';
import { usageError, type JitError } from '../core/errors.js';
import { shellQuote } from '../core/shell-quote.js';

/**
 * Commander's usage errors as jit's: one `error:` line and one `hint:` line (exit 2), printed by
 * main like every other error. Commander writes nothing itself (its outputError is silenced);
 * its message is kept, and its "(Did you mean …?)" becomes the hint.
 */
export function usageFromCommander(err: CommanderError, cmd: Command, argv: string[]): JitError {
  const [first = '', ...rest] = err.message.replace(/^error: /, '').split('\n');
  const similar = /^\(Did you mean (one of )?(.+)\?\)$/.exec(rest.join(' ').trim());
  const path = commandPath(cmd);
  const help = `see '${['jit', ...path, '--help'].join(' ')}'`;
  const message = first.replace(/\.$/, '');
  if (err.code === 'commander.unknownOption') {
    const flag = /unknown option '(.*)'/.exec(first)?.[1] ?? '';
    const hint = dashDashHint(cmd, argv, flag, path);
    if (hint) return usageError(message, hint);
  }
  if (err.code === 'commander.excessArguments') {
    const extra = `unexpected argument ${JSON.stringify(cmd.args[cmd.registeredArguments.length])}`;
    return usageError(extra, roleHint(cmd, argv, path) ?? help);
  }
  if (similar) {
    const names = similar[2]!.split(', ').map((n) => `'${n}'`);
    return usageError(message, `did you mean ${similar[1] ? `one of ${names.join(', ')}` : names[0]}?`);
  }
  return usageError(message, help);
}

/** The command's names below `jit`, e.g. ['admin', 'set']. */
export function commandPath(cmd: Command): string[] {
  const names: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) names.unshift(c.name());
  return names;
}

/**
 * Where each operand of argv is, read with the flags commander knows for this command and its
 * ancestors (so a flag's value is not taken for an operand).
 */
function operandIndexes(cmd: Command, argv: string[]): number[] {
  const options: NonNullable<ParseArgsConfig['options']> = {};
  for (let c: Command | null = cmd; c; c = c.parent) {
    for (const o of c.options) {
      const type = o.required || o.optional ? 'string' : 'boolean';
      if (o.long) options[o.long.replace(/^--/, '')] = { type, ...(o.short ? { short: o.short.replace(/^-/, '') } : {}) };
    }
  }
  const { tokens } = parseArgs({ args: argv, options, allowPositionals: true, strict: false, tokens: true });
  const end = tokens.find((t) => t.kind === 'option-terminator')?.index ?? argv.length;
  return tokens.filter((t) => t.kind === 'positional' && t.index < end).map((t) => t.index);
}

/**
 * `jit exec db psql -c 'select 1'`: `-c` is the command's, so `--` goes before the command;
 * `jit connect db -c 'select 1'`: psql's arguments go after `--`.
 */
function dashDashHint(cmd: Command, argv: string[], flag: string, path: string[]): string | undefined {
  const name = cmd.name();
  if (name !== 'exec' && name !== 'connect') return undefined;
  const operands = cmd.args.slice(0, Math.max(0, cmd.args.indexOf(flag)));
  if (name === 'exec') {
    if (operands.length < 2) return `jit's options go before --, the command and its own options after it: jit exec DB --role ROLE -- COMMAND ARGS…`;
    const at = operandIndexes(cmd, argv)[path.length + 1];
    if (at === undefined) return undefined;
    return `the command's own options go after --: ${commandLine([...argv.slice(0, at), '--', ...argv.slice(at)])}`;
  }
  const at = argv.indexOf(flag);
  if (operands.length > 1 || at < 0) return undefined;
  return `psql's (or mariadb's) arguments go after --: ${commandLine([...argv.slice(0, at), '--', ...argv.slice(at)])}`;
}

/** `jit uri ci-db readonly`: the second operand is a role given without --role. */
function roleHint(cmd: Command, argv: string[], path: string[]): string | undefined {
  if (!cmd.options.some((o) => o.long === '--role') || cmd.getOptionValue('role') !== undefined || cmd.args.length !== 2) return undefined;
  const at = operandIndexes(cmd, argv)[path.length + 1];
  if (at === undefined) return undefined;
  return `a role goes after --role: ${commandLine([...argv.slice(0, at), '--role', ...argv.slice(at)])}`;
}

/** argv as the user would retype it: plain words bare, anything else single-quoted. */
function commandLine(argv: string[]): string {
  return ['jit', ...argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : shellQuote(a)))].join(' ');
}
