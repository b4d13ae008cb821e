import { escapeControl } from '../core/terminal-text.js';
import { Command, CommanderError, Option } from 'commander';
import { systemIO } from './io.js';
import { systemDeps, type Deps } from './deps.js';
import { ensureReaper } from '../reaper/reaper-client.js';
import { commandPath, usageFromCommander } from './usage-errors.js';
import { ENV_FORMATS, EXEC_OPTIONS, HOT_COMMANDS, MINT_OPTIONS, URI_FORMATS, type Loader } from './hot-commands.js';

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
  /** Tests of the parsing alone: called instead of the command's implementation. */
  run?: (path: string[], args: unknown[], opts: Record<string, unknown>) => Promise<number>;
}

const mint = (c: Command) => {
  for (const o of MINT_OPTIONS) c.option(`--${o.name} ${o.arg}`, o.about);
  return c;
};

/** A help example: a command line that works as written with README's sample policy. */
type Example = readonly [commandLine: string, what: string];

/** One command: its implementation (or its subcommands), flags, and help examples. */
interface CommandEntry {
  spec: string;
  about: string;
  load?: Loader;
  setup?: (c: Command) => Command;
  subcommands?: CommandEntry[];
  examples: readonly Example[];
}

const GROUPS = { access: 'Access:', oncall: 'On-call:', setup: 'Setup:' } as const;

/** The command table, in `jit --help`'s groups. Each implementation is imported only when its command runs. */
function commands(): Record<keyof typeof GROUPS, CommandEntry[]> {
  return {
    access: [
      {
        spec: 'connect [database] [client-args...]',
        about: 'open psql (or mariadb) with a temporary login, revoked when it exits',
        load: HOT_COMMANDS.connect,
        setup: mint,
        examples: [
          ['jit connect prod-db --role readonly', 'psql as a readonly login, dropped when you quit'],
          ['jit connect prod-db --role support --reason "INC-1234: ticket stuck"', 'a role that requires a reason'],
          ["jit connect prod-db --role readonly -- -c 'select count(*) from orders'", "psql's own arguments go after --"],
        ],
      },
      {
        spec: 'uri [database]',
        about: 'print a connection URI for a temporary login',
        load: HOT_COMMANDS.uri,
        setup: (c) =>
          mint(c).addOption(
            new Option('--format <format>', 'a URI, a JDBC URL, or entries in the client files GUIs read (service, pgpass)').choices([...URI_FORMATS]).default('uri'),
          ),
        examples: [
          ['export DATABASE_URL=$(jit uri prod-db --role readonly --ttl 10m)', 'a URI for the next 10 minutes'],
          ['jit uri prod-db --role readonly --only orders', "only some of the role's tables"],
          ['jit uri shop --role readonly --json', 'id, login, URI and expiry as JSON'],
          ['jit uri prod-db --role readonly --format jdbc', 'a JDBC URL, user and password as parameters'],
          ['jit uri prod-db --role readonly --format service', 'service jit-prod-db-readonly in $JIT_HOME/clients/pg_service.conf, for a GUI'],
        ],
      },
      {
        spec: 'env [database]',
        about: 'print DATABASE_URL and the client variables for a temporary login',
        load: HOT_COMMANDS.env,
        setup: (c) => mint(c).addOption(new Option('--format <format>', 'output format').choices([...ENV_FORMATS]).default('sh')),
        examples: [
          ['eval "$(jit env prod-db --role readonly)"', 'DATABASE_URL and PG* in this shell'],
          ['jit env prod-db --role readonly --format fish | source', 'the same in fish'],
          ['jit env prod-db --role readonly --ttl 1h --format dotenv > .env', 'a .env file for an app'],
        ],
      },
      {
        spec: 'exec [database] [command...]',
        about: 'run a command with DATABASE_URL set; revoked when it exits',
        load: HOT_COMMANDS.exec,
        setup: (c) => {
          for (const o of EXEC_OPTIONS) c.option(`--${o.name} ${o.arg}`, o.about);
          return mint(c);
        },
        examples: [
          ["jit exec prod-db --role readonly -- psql -c 'select count(*) from orders'", "jit's options before --, the command's after"],
          ['jit exec prod-db --role readonly --var DB_URL -- node app.js', 'the URI also in $DB_URL'],
        ],
      },
      {
        spec: 'ls [database]',
        about: 'what the policy offers: databases, their roles, grants and TTLs',
        load: () => import('./commands/ls.js'),
        setup: (c) => c.alias('databases'),
        examples: [
          ['jit ls', 'every database and role in the policy'],
          ['jit ls shop --json', 'one database, as JSON'],
        ],
      },
      {
        spec: 'list',
        about: "this machine's leases (--all: every jit login on every configured server)",
        load: () => import('./commands/list.js'),
        setup: (c) => c.option('--all', 'ask every configured database for every live jit login').option('--database <db>', 'only this database'),
        examples: [
          ['jit list', 'your leases on this machine'],
          ['jit list --all --database prod-db', "every live jit login on prod-db's server, anyone's"],
          ['jit list --json', 'the same as JSON'],
        ],
      },
      {
        spec: 'extend [lease]',
        about: "push a lease's expiry out (never past the role's max_ttl)",
        load: () => import('./commands/extend.js'),
        setup: (c) => c.requiredOption('--ttl <duration>', 'new lifetime counted from now'),
        examples: [
          ['jit extend --ttl 30m', 'pick one of your live leases (on a terminal)'],
          ['jit extend 0p6iy7dmi9 --ttl 1h', 'a lease by id (see jit list)'],
        ],
      },
    ],
    oncall: [
      {
        spec: 'revoke [lease]',
        about: 'revoke a lease or login now (--all: every jit login on the servers)',
        load: () => import('./commands/revoke.js'),
        setup: (c) =>
          c.option('--all', 'revoke every jit login found on the servers').option('--database <db>', 'only this database').option('-y, --yes', 'do not ask for confirmation'),
        examples: [
          ['jit revoke 0p6iy7dmi9', 'one lease by id (see jit list)'],
          ['jit revoke jit_alice_899n5cjin5w7', 'a login minted on another machine'],
          ['jit revoke --all --database prod-db --yes', "every jit login on prod-db's server, now"],
        ],
      },
      {
        spec: 'sessions [database]',
        about: 'live sessions of jit logins',
        load: () => import('./commands/sessions.js'),
        examples: [
          ['jit sessions', 'on every configured database'],
          ['jit sessions prod-db --json', 'one database, as JSON'],
        ],
      },
      {
        spec: 'reap',
        about: 'revoke every expired jit login on the servers (for cron)',
        load: () => import('./commands/reap.js'),
        setup: (c) => c.option('--database <db>', 'only this database'),
        examples: [
          ['jit reap --quiet', 'what a crontab line runs, e.g. every 5 minutes'],
          ['jit reap --database prod-db --json', 'one database; what was dropped, as JSON'],
        ],
      },
      {
        spec: 'audit',
        about: 'show the local audit trail',
        load: () => import('./commands/audit.js'),
        setup: (c) => c.option('--since <duration>', 'only entries newer than this, e.g. 24h'),
        examples: [
          ['jit audit --since 24h', 'the last day'],
          ['jit audit --since 7d --json', 'a week, as JSON (one object per event)'],
        ],
      },
    ],
    setup: [
      {
        spec: 'init [file]',
        about: 'write an annotated starter policy',
        load: () => import('./commands/init.js'),
        setup: (c) => c.option('--force', 'overwrite an existing file'),
        examples: [
          ['jit init', 'writes ./jit.yaml'],
          ['jit init ~/.config/jit/policy.yaml', 'where jit looks when there is no ./jit.yaml'],
        ],
      },
      {
        spec: 'doctor [database]',
        about: 'check policy, keychain, admin login, clients and reaper',
        load: () => import('./commands/doctor.js'),
        examples: [
          ['jit doctor', 'every database in the policy'],
          ['jit doctor prod-db', 'one database'],
        ],
      },
      {
        spec: 'admin',
        about: 'create the admin, and store, check or delete its credential in the OS keychain',
        examples: [
          ['jit admin set prod-db', 'asks for the password, logs in with it, stores it'],
          ['jit admin test prod-db', 'logs in as the admin and checks its privileges'],
        ],
        subcommands: [
          {
            spec: 'set <database>',
            about: 'store the admin password in the OS keychain',
            load: () => import('./commands/admin-set.js'),
            setup: (c) => c.option('--password-stdin', 'read the password from stdin').option('--no-verify', 'store it without logging in with it first'),
            examples: [
              ['jit admin set prod-db', 'asks for the password (hidden), logs in with it, stores it'],
              ['op read op://ops/prod-db/password | jit admin set prod-db --password-stdin', 'from a password manager'],
              ['jit admin set prod-db --no-verify', 'store it while the server is unreachable'],
            ],
          },
          {
            spec: 'test <database>',
            about: 'log in as the admin and check its privileges',
            load: () => import('./commands/admin-test.js'),
            examples: [
              ['jit admin test prod-db', 'a PostgreSQL database'],
              ['jit admin test shop', 'a MySQL/MariaDB database'],
            ],
          },
          {
            spec: 'bootstrap <database>',
            about: 'print (or, with --apply, run as a DBA) the SQL for an admin with exactly what the policy needs',
            load: () => import('./commands/admin-bootstrap.js'),
            setup: (c) =>
              c
                .option('--apply', 'log in as a DBA and run what the admin lacks')
                .option('--dba-user <name>', 'the DBA account (default postgres, root for MySQL)')
                .option('--dba-password <source>', 'env:NAME or command:CMD (default: asked for); never stored'),
            examples: [
              ['jit admin bootstrap prod-db', 'print the SQL, for a DBA to review and run'],
              ['jit admin bootstrap prod-db --apply', 'run it as postgres (asks for its password), store the admin password'],
              ['jit admin bootstrap prod-db --apply --dba-user rds_admin --dba-password env:DBA_PW', 'on RDS, in a script'],
            ],
          },
          {
            spec: 'forget <database>',
            about: 'delete the admin password from the OS keychain',
            load: () => import('./commands/admin-forget.js'),
            examples: [['jit admin forget prod-db', "remove prod-db's admin password"]],
          },
        ],
      },
      {
        spec: 'policy',
        about: 'work with policy files',
        examples: [['jit policy check', 'validate the policy jit would use']],
        subcommands: [
          {
            spec: 'check [file]',
            about: 'validate a policy file',
            load: () => import('./commands/policy-check.js'),
            examples: [
              ['jit policy check', 'the policy jit would use (--policy, $JIT_POLICY, ./jit.yaml, …)'],
              ['jit policy check examples/policies/postgres.yaml', 'a file of your choosing; nothing is contacted'],
              ['jit policy check --json', 'the result as JSON'],
            ],
          },
        ],
      },
    ],
  };
}

const ROOT_EXAMPLES: readonly Example[] = [
  ['jit connect prod-db --role readonly', 'psql as a readonly login, dropped when you quit'],
  ['export DATABASE_URL=$(jit uri prod-db --role readonly --ttl 10m)', 'a URI for a script'],
  ['jit revoke --all --yes', "on-call: every jit login, everyone's, gone now"],
];

/** Every help example with the command whose help shows it (tests run each through the parser). */
export function helpExamples(): Array<{ path: string[]; line: string }> {
  const out = ROOT_EXAMPLES.map(([line]) => ({ path: [] as string[], line }));
  const walk = (entry: CommandEntry, parent: string[]) => {
    const path = [...parent, entry.spec.split(' ')[0]!];
    for (const [line] of entry.examples) out.push({ path, line });
    for (const sub of entry.subcommands ?? []) walk(sub, path);
  };
  for (const entry of Object.values(commands()).flat()) walk(entry, []);
  return out;
}

/** Examples after a command's help. */
function examplesText(examples: readonly Example[]): string {
  return `\nExamples:\n${examples.map(([line, what]) => `  # ${what}\n  $ ${line}\n`).join('')}`;
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
    // Usage errors are thrown as JitErrors for main to print; commander itself prints only help.
    .configureOutput({ writeErr: (s) => process.stderr.write(escapeControl(s, '\n')), writeOut: (s) => process.stdout.write(s), outputError: () => {} })
    .addHelpText(
      'after',
      examplesText(ROOT_EXAMPLES) + "\nRun 'jit COMMAND --help' for a command's options and examples.\n",
    );

  const makeDeps = (opts: GlobalOptions): Deps =>
    ctx.deps ? ctx.deps(opts) : systemDeps({ io: systemIO(opts, env), env, cwd: ctx.cwd, policyFlag: opts.policy, entryScript: ctx.entryScript });

  const usage = (c: Command) =>
    c.exitOverride((err) => {
      // --help and --version succeed; help shown because no command was given is a usage error.
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') throw err;
      throw usageFromCommander(err, c, argv);
    });

  const attach = (parent: Command, entry: CommandEntry, group?: string) => {
    let c = usage(parent.command(entry.spec).description(entry.about)).addHelpText('after', examplesText(entry.examples));
    if (group) c.helpGroup(group);
    if (entry.setup) c = entry.setup(c);
    for (const sub of entry.subcommands ?? []) attach(c, sub);
    const load = entry.load;
    if (!load) return;
    c.action(async (...params: unknown[]) => {
      const cmd = params[params.length - 1] as Command;
      const opts = cmd.optsWithGlobals() as Record<string, unknown>;
      const after = argsAfterDashDash(argv, (cmd.processedArgs as unknown[]).flat());
      if (after) opts.afterDashDash = after;
      if (ctx.run) {
        exitCode = await ctx.run(commandPath(cmd), cmd.processedArgs, opts);
        return;
      }
      const { run } = await load();
      const deps = makeDeps(opts as GlobalOptions);
      exitCode = await run(cmd.processedArgs as string[], opts, deps);
      // Any command restarts a reaper that died (kill -9, reboot) while leases remain; the ones
      // that deal with servers also hand it the admin credentials (a keychain prompt or an
      // `op read` would be a surprise from `jit audit`). Minting commands handed theirs already.
      if (!MINTING.has(cmd.name())) await ensureReaper(deps, { credentials: SERVER_COMMANDS.has(cmd.name()) }).catch(() => {});
    });
  };

  usage(program);
  for (const [group, entries] of Object.entries(commands()) as Array<[keyof typeof GROUPS, CommandEntry[]]>) {
    for (const entry of entries) attach(program, entry, GROUPS[group]);
  }
  program.commandsGroup('Help:').helpCommand('help [command]', 'show help for a command');

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    // Help shown because no command was given (exit code 1 from commander) is a usage error.
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    throw err;
  }
  return exitCode;
}
