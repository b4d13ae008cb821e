import { EXIT, isJitError } from './core/errors.js';
import { redact } from './core/redact.js';
import { escapeControl } from './core/terminal-text.js';

/**
 * Parse, run, and turn whatever happened into an exit code. The only place that prints errors:
 * one `error:` line, an optional `hint:` line, the stack only with --debug, everything redacted.
 * `entryScript` is the path of bin/jit.js, which the detached reaper is started with.
 */
export async function main(argv: string[], env: NodeJS.ProcessEnv, entryScript: string): Promise<number> {
  const debug = argv.includes('--debug');
  // A closed terminal (SIGHUP under `jit connect`) turns stderr writes into EIO/EPIPE errors;
  // they must not crash jit before it has revoked.
  process.stderr.on('error', () => {});
  process.stdout.on('error', () => {});
  // Messages carry server, driver and policy text others wrote: escape their control characters
  // (the stack keeps its line breaks); the coloured label is jit's own and stays raw.
  const errOut = (label: string, text: string, keep = '') => process.stderr.write(`${label}${escapeControl(redact(text), keep)}\n`);
  const paint = async () => {
    const color = process.stderr.isTTY && env.NO_COLOR === undefined && env.TERM !== 'dumb' && !argv.includes('--no-color') && !argv.includes('--json');
    if (!color) return { error: 'error:', hint: 'hint:' };
    const { default: chalk } = await import('chalk');
    return { error: chalk.red.bold('error:'), hint: chalk.yellow('hint:') };
  };
  try {
    // What a shell runs on Tab: no reaper revived, nothing on stderr, exit 0 whatever happens.
    if (argv[0] === '__complete') {
      const { runComplete } = await import('./cli/complete.js');
      return await runComplete(argv.slice(1), env, process.cwd());
    }
    if (argv[0] === '__reaper') {
      const { runReaper } = await import('./reaper/reaper-main.js');
      return await runReaper(env);
    }
    try {
      const { isRootHelp, rootHelp } = await import('./cli/root-help.js');
      if (isRootHelp(argv)) {
        // The width commander would take: the terminal's, else 80.
        process.stdout.write(rootHelp((process.stdout.isTTY ? process.stdout.columns : undefined) ?? 80));
        return 0;
      }
      const { parseFast, runFast } = await import('./cli/fast-path.js');
      const fast = parseFast(argv);
      if (fast) return await runFast(fast, env, { entryScript, cwd: process.cwd() });
      const { runProgram } = await import('./cli/program.js');
      return await runProgram(argv, env, { entryScript, cwd: process.cwd() });
    } finally {
      // Every invocation, failing or not, restarts a reaper that died or wedged while leases remain.
      const { reviveReaper } = await import('./reaper/reaper-revive.js');
      await reviveReaper(env, entryScript).catch(() => {});
    }
  } catch (err) {
    const label = await paint();
    if (isJitError(err)) {
      errOut(`${label.error} `, err.message);
      if (err.hint) errOut(`${label.hint} `, err.hint);
      if (debug && err.cause instanceof Error && err.cause.stack) errOut('', err.cause.stack, '\n');
      if (debug && err.stack) errOut('', err.stack, '\n');
      return err.exitCode;
    }
    const message = err instanceof Error ? err.message : String(err);
    errOut(`${label.error} `, message.split('\n')[0]!);
    if (debug && err instanceof Error && err.stack) errOut('', err.stack, '\n');
    else errOut(`${label.hint} `, 'this is a bug in jit; run again with --debug for the stack trace');
    return EXIT.runtime;
  }
}
