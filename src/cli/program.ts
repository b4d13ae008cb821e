import { escapeControl } from '../core/terminal-text.js';
import { Command, CommanderError, Option } from 'commander';
import { systemIO } from './io.js';
import { systemDeps, type Deps } from './deps.js';
import { ensureReaper } from '../reaper/reaper-client.js';
import { ENV_FORMATS, EXEC_OPTIONS, HOT_COMMANDS, MINT_OPTIONS, type Loader } from './hot-commands.js';

const MINTING = new Set(Object.keys(HOT_COMMANDS));
const SERVER_COMMANDS = new Set(['list', 'revoke', 'extend', 'reap', 'sessions', 'doctor', 'test']);

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
}

const mint = (c: Command) => {
  for (const o of MINT_OPTIONS) c.option(`--${o.name} ${o.arg}`, o.about);
  return c;
};

/** The command table. Each implementation is imported only when its command runs. */
function commands(): Array<{ spec: string; about: string; load: Loader; setup?: (c: Command) => Command }> {
  return [
    { spec: 'connect [database] [client-args...]', about: 'open psql with a temporary login; revoked when psql exits (psql arguments after --)', load: HOT_COMMANDS.connect, setup: mint },
    { spec: 'uri [database]', about: 'print a connection URI for a temporary login', load: HOT_COMMANDS.uri, setup: mint },
    {
      spec: 'env [database]',
      about: 'print DATABASE_URL and the client variables for a temporary login',
      load: HOT_COMMANDS.env,
      setup: (c) => mint(c).addOption(new Option('--format <format>', 'output format').choices([...ENV_FORMATS]).default('sh')),
    },
    {
      spec: 'exec [database] [command...]',
      about: 'run a command with DATABASE_URL set; revoked when it exits',
      load: HOT_COMMANDS.exec,
      setup: (c) => {
        for (const o of EXEC_OPTIONS) c.option(`--${o.name} ${o.arg}`, o.about);
        return mint(c);
      },
    },
    {
      spec: 'list',
      about: "this machine's leases (--all: every jit login on every configured server)",
      load: () => import('./commands/list.js'),
      setup: (c) => c.option('--all', 'ask every configured database for every live jit login').option('--database <db>', 'only this database'),
    },
    {
      spec: 'ls [database]',
      about: 'what the policy offers: databases, their roles, grants and TTLs (alias: databases)',
      load: () => import('./commands/ls.js'),
      setup: (c) => c.alias('databases'),
    },
    {
      spec: 'revoke [lease]',
      about: 'revoke a lease or login now (--all: every jit login on the servers)',
      load: () => import('./commands/revoke.js'),
      setup: (c) =>
        c.option('--all', 'revoke every jit login found on the servers').option('--database <db>', 'only this database').option('-y, --yes', 'do not ask for confirmation'),
    },
    { spec: 'extend [lease]', about: "push a lease's expiry out (never past the role's max_ttl)", load: () => import('./commands/extend.js'), setup: (c) => c.requiredOption('--ttl <duration>', 'new lifetime counted from now') },
    { spec: 'reap', about: 'revoke every expired jit login on the servers (for cron)', load: () => import('./commands/reap.js'), setup: (c) => c.option('--database <db>', 'only this database') },
    { spec: 'sessions [database]', about: 'live sessions of jit logins', load: () => import('./commands/sessions.js') },
    { spec: 'doctor [database]', about: 'check policy, keychain, admin login, clients and reaper', load: () => import('./commands/doctor.js') },
    { spec: 'init [file]', about: 'write an annotated starter policy', load: () => import('./commands/init.js'), setup: (c) => c.option('--force', 'overwrite an existing file') },
    { spec: 'audit', about: 'show the local audit trail', load: () => import('./commands/audit.js'), setup: (c) => c.option('--since <duration>', 'only entries newer than this, e.g. 24h') },
  ];
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
    .description('Just-in-time database logins: least privilege, hard expiry, revoked when you are done.')
    .version('0.1.0', '-V, --version')
    .option('--policy <file>', 'policy file (default: $JIT_POLICY, ./jit.yaml, $XDG_CONFIG_HOME/jit/policy.yaml)')
    .option('--json', 'machine-readable output on stdout')
    .option('--no-color', 'no colour on stderr')
    .option('-q, --quiet', 'no progress or notices on stderr')
    .option('--debug', 'show stack traces')
    .exitOverride()
    .showHelpAfterError('hint: run the command with --help for usage')
    .configureOutput({ writeErr: (s) => process.stderr.write(escapeControl(s, '\n')), writeOut: (s) => process.stdout.write(s) });

  const makeDeps = (opts: GlobalOptions): Deps =>
    ctx.deps ? ctx.deps(opts) : systemDeps({ io: systemIO(opts, env), env, cwd: ctx.cwd, policyFlag: opts.policy, entryScript: ctx.entryScript });

  const attach = (parent: Command, spec: string, about: string, load: Loader, setup?: (c: Command) => Command) => {
    let c = parent.command(spec).description(about).exitOverride();
    if (setup) c = setup(c);
    c.action(async (...params: unknown[]) => {
      const cmd = params[params.length - 1] as Command;
      const opts = cmd.optsWithGlobals() as Record<string, unknown>;
      const after = argsAfterDashDash(argv, (cmd.processedArgs as unknown[]).flat());
      if (after) opts.afterDashDash = after;
      const { run } = await load();
      const deps = makeDeps(opts as GlobalOptions);
      exitCode = await run(cmd.processedArgs as string[], opts, deps);
      // Any command restarts a reaper that died (kill -9, reboot) while leases remain; the ones
      // that deal with servers also hand it the admin credentials (a keychain prompt or an
      // `op read` would be a surprise from `jit audit`). Minting commands handed theirs already.
      if (!MINTING.has(cmd.name())) await ensureReaper(deps, { credentials: SERVER_COMMANDS.has(cmd.name()) }).catch(() => {});
    });
  };

  for (const { spec, about, load, setup } of commands()) attach(program, spec, about, load, setup);

  const admin = program.command('admin').description('store, check or delete the admin credential in the OS keychain');
  attach(admin, 'set <database>', 'store the admin password in the OS keychain', () => import('./commands/admin-set.js'), (c) => c.option('--password-stdin', 'read the password from stdin').option('--no-verify', 'store it without logging in with it first'));
  attach(admin, 'test <database>', 'log in as the admin and check its privileges', () => import('./commands/admin-test.js'));
  attach(admin, 'forget <database>', 'delete the admin password from the OS keychain', () => import('./commands/admin-forget.js'));

  const policy = program.command('policy').description('work with policy files');
  attach(policy, 'check [file]', 'validate a policy file', () => import('./commands/policy-check.js'));

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version succeed; help shown because no command was given is a usage error.
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return 0;
      return 2;
    }
    throw err;
  }
  return exitCode;
}
