import type { Deps } from './deps.js';

/** args: the command's declared operands in order (a variadic one is an array). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each command types its own operands and flags
export type Runner = (args: any, opts: any, deps: Deps) => Promise<number>;
export type Loader = () => Promise<{ run: Runner }>;

/** What a shell completes for an operand or an option's value (`jit __complete`). */
export type Completion = 'database' | 'role' | 'lease' | 'file' | readonly string[];

/** One flag, in commander's notation: `--ttl <duration>`, `-y, --yes`, `--no-verify`. */
export interface OptionSpec {
  flags: string;
  about: string;
  /** The only values accepted (help lists them; anything else is a usage error). */
  choices?: readonly string[];
  default?: string;
  /** The flag must be given (commander's requiredOption). */
  required?: boolean;
  /** What its value completes to; a value-taking flag without one completes nothing. */
  complete?: Completion;
}

/** One operand: `[database]` (optional), `<database>` (required), `[command...]` (variadic). */
export interface OperandSpec {
  name: string;
  required?: boolean;
  variadic?: boolean;
  complete?: Completion;
}

/** A help example: a command line that works as written with README's sample policy. */
export type Example = readonly [commandLine: string, what: string];

/**
 * One command, declared once: commander (program.ts), the fast parser (fast-path.ts), help and
 * shell completion (complete.ts) are all built from it.
 */
export interface CommandSpec {
  name: string;
  aliases?: readonly string[];
  operands: readonly OperandSpec[];
  about: string;
  options: readonly OptionSpec[];
  examples: readonly Example[];
  /** The implementation, imported only when the command runs; absent for a group of subcommands. */
  load?: Loader;
  subcommands?: readonly CommandSpec[];
  /** Mints a login (and hands the reaper its lease and credentials itself). */
  mints?: boolean;
  /** Talks to the servers: the reaper it restarts is handed the admin credentials. */
  servers?: boolean;
  /** The operands after `--` are handed on (a child's argv), not jit's. */
  dashDash?: boolean;
}

export const GLOBAL_OPTIONS: readonly OptionSpec[] = [
  { flags: '--policy <file>', about: 'policy file (default: $JIT_POLICY, ./jit.yaml, $XDG_CONFIG_HOME/jit/policy.yaml)', complete: 'file' },
  { flags: '--json', about: 'machine-readable output on stdout' },
  { flags: '--no-color', about: 'no colour on stderr' },
  { flags: '-q, --quiet', about: 'no progress or notices on stderr' },
  { flags: '--debug', about: 'show stack traces' },
];

const MINT_OPTIONS: readonly OptionSpec[] = [
  { flags: '--role <role>', about: 'role from the policy', complete: 'role' },
  { flags: '--ttl <duration>', about: "lifetime, e.g. 15m or 1h30m (default: the role's ttl)", complete: ['15m', '30m', '1h'] },
  { flags: '--reason <text>', about: 'why you need access (recorded in the audit trail)' },
  { flags: '--only <tables>', about: "narrow this request to some of the role's tables, comma-separated" },
];

export const ENV_FORMATS = ['sh', 'fish', 'dotenv', 'json'] as const;
/** `jit uri --format`: the URI, a JDBC URL, or entries in the client files GUIs read. */
export const URI_FORMATS = ['uri', 'jdbc', 'service', 'pgpass'] as const;
export const SHELLS = ['bash', 'zsh', 'fish'] as const;

const database = (required = false): OperandSpec => ({ name: 'database', required, complete: 'database' });
const databaseFlag: OptionSpec = { flags: '--database <db>', about: 'only this database', complete: 'database' };

export const GROUPS: ReadonlyArray<{ title: string; commands: readonly CommandSpec[] }> = [
  {
    title: 'Access:',
    commands: [
      {
        name: 'connect',
        operands: [database(), { name: 'client-args', variadic: true }],
        about: 'open psql (or mariadb) with a temporary login, revoked when it exits',
        load: () => import('./commands/connect.js'),
        mints: true,
        dashDash: true,
        options: MINT_OPTIONS,
        examples: [
          ['jit connect prod-db --role readonly', 'psql as a readonly login, dropped when you quit'],
          ['jit connect prod-db --role support --reason "INC-1234: ticket stuck"', 'a role that requires a reason'],
          ["jit connect prod-db --role readonly -- -c 'select count(*) from orders'", "psql's own arguments go after --"],
        ],
      },
      {
        name: 'uri',
        operands: [database()],
        about: 'print a connection URI for a temporary login',
        load: () => import('./commands/uri.js'),
        mints: true,
        options: [
          ...MINT_OPTIONS,
          {
            flags: '--format <format>',
            about: 'a URI, a JDBC URL, or entries in the client files GUIs read (service, pgpass)',
            choices: URI_FORMATS,
            default: 'uri',
            complete: URI_FORMATS,
          },
        ],
        examples: [
          ['export DATABASE_URL=$(jit uri prod-db --role readonly --ttl 10m)', 'a URI for the next 10 minutes'],
          ['jit uri prod-db --role readonly --only orders', "only some of the role's tables"],
          ['jit uri shop --role readonly --json', 'id, login, URI and expiry as JSON'],
          ['jit uri prod-db --role readonly --format jdbc', 'a JDBC URL, user and password as parameters'],
          ['jit uri prod-db --role readonly --format service', 'service jit-prod-db-readonly in $JIT_HOME/clients/pg_service.conf, for a GUI'],
        ],
      },
      {
        name: 'env',
        operands: [database()],
        about: 'print DATABASE_URL and the client variables for a temporary login',
        load: () => import('./commands/env.js'),
        mints: true,
        options: [...MINT_OPTIONS, { flags: '--format <format>', about: 'output format', choices: ENV_FORMATS, default: 'sh', complete: ENV_FORMATS }],
        examples: [
          ['eval "$(jit env prod-db --role readonly)"', 'DATABASE_URL and PG* in this shell'],
          ['jit env prod-db --role readonly --format fish | source', 'the same in fish'],
          ['jit env prod-db --role readonly --ttl 1h --format dotenv > .env', 'a .env file for an app'],
        ],
      },
      {
        name: 'exec',
        operands: [database(), { name: 'command', variadic: true }],
        about: 'run a command with DATABASE_URL set; revoked when it exits',
        load: () => import('./commands/exec.js'),
        mints: true,
        dashDash: true,
        options: [{ flags: '--var <name>', about: 'also put the URI in this variable (DATABASE_URL is always set)' }, ...MINT_OPTIONS],
        examples: [
          ["jit exec prod-db --role readonly -- psql -c 'select count(*) from orders'", "jit's options before --, the command's after"],
          ['jit exec prod-db --role readonly --var DB_URL -- node app.js', 'the URI also in $DB_URL'],
        ],
      },
      {
        name: 'ls',
        aliases: ['databases'],
        operands: [database()],
        about: 'what the policy offers: databases, their roles, grants and TTLs',
        load: () => import('./commands/ls.js'),
        options: [],
        examples: [
          ['jit ls', 'every database and role in the policy'],
          ['jit ls shop --json', 'one database, as JSON'],
        ],
      },
      {
        name: 'list',
        operands: [],
        about: "this machine's leases (--all: every jit login on every configured server)",
        load: () => import('./commands/list.js'),
        servers: true,
        options: [{ flags: '--all', about: 'ask every configured database for every live jit login' }, databaseFlag],
        examples: [
          ['jit list', 'your leases on this machine'],
          ['jit list --all --database prod-db', "every live jit login on prod-db's server, anyone's"],
          ['jit list --json', 'the same as JSON'],
        ],
      },
      {
        name: 'extend',
        operands: [{ name: 'lease', complete: 'lease' }],
        about: "push a lease's expiry out (never past the role's max_ttl)",
        load: () => import('./commands/extend.js'),
        servers: true,
        options: [{ flags: '--ttl <duration>', about: 'new lifetime counted from now', required: true, complete: ['15m', '30m', '1h'] }],
        examples: [
          ['jit extend --ttl 30m', 'pick one of your live leases (on a terminal)'],
          ['jit extend 0p6iy7dmi9 --ttl 1h', 'a lease by id (see jit list)'],
        ],
      },
    ],
  },
  {
    title: 'On-call:',
    commands: [
      {
        name: 'revoke',
        operands: [{ name: 'lease', complete: 'lease' }],
        about: 'revoke a lease or login now (--all: every jit login on the servers)',
        load: () => import('./commands/revoke.js'),
        servers: true,
        options: [
          { flags: '--all', about: 'revoke every jit login found on the servers' },
          databaseFlag,
          { flags: '-y, --yes', about: 'do not ask for confirmation' },
        ],
        examples: [
          ['jit revoke 0p6iy7dmi9', 'one lease by id (see jit list)'],
          ['jit revoke jit_alice_899n5cjin5w7', 'a login minted on another machine'],
          ['jit revoke --all --database prod-db --yes', "every jit login on prod-db's server, now"],
        ],
      },
      {
        name: 'sessions',
        operands: [database()],
        about: 'live sessions of jit logins',
        load: () => import('./commands/sessions.js'),
        servers: true,
        options: [],
        examples: [
          ['jit sessions', 'on every configured database'],
          ['jit sessions prod-db --json', 'one database, as JSON'],
        ],
      },
      {
        name: 'reap',
        operands: [],
        about: 'revoke every expired jit login on the servers (for cron)',
        load: () => import('./commands/reap.js'),
        servers: true,
        options: [databaseFlag],
        examples: [
          ['jit reap --quiet', 'what a crontab line runs, e.g. every 5 minutes'],
          ['jit reap --database prod-db --json', 'one database; what was dropped, as JSON'],
        ],
      },
      {
        name: 'audit',
        operands: [],
        about: 'show the local audit trail',
        load: () => import('./commands/audit.js'),
        options: [{ flags: '--since <duration>', about: 'only entries newer than this, e.g. 24h', complete: ['1h', '24h', '7d'] }],
        examples: [
          ['jit audit --since 24h', 'the last day'],
          ['jit audit --since 7d --json', 'a week, as JSON (one object per event)'],
        ],
      },
    ],
  },
  {
    title: 'Setup:',
    commands: [
      {
        name: 'init',
        operands: [{ name: 'file', complete: 'file' }],
        about: 'write an annotated starter policy',
        load: () => import('./commands/init.js'),
        options: [{ flags: '--force', about: 'overwrite an existing file' }],
        examples: [
          ['jit init', 'writes ./jit.yaml'],
          ['jit init ~/.config/jit/policy.yaml', 'where jit looks when there is no ./jit.yaml'],
        ],
      },
      {
        name: 'doctor',
        operands: [database()],
        about: 'check policy, keychain, admin login, clients and reaper',
        load: () => import('./commands/doctor.js'),
        servers: true,
        options: [],
        examples: [
          ['jit doctor', 'every database in the policy'],
          ['jit doctor prod-db', 'one database'],
        ],
      },
      {
        name: 'admin',
        operands: [],
        about: 'create the admin, and store, check or delete its credential in the OS keychain',
        options: [],
        examples: [
          ['jit admin set prod-db', 'asks for the password, logs in with it, stores it'],
          ['jit admin test prod-db', 'logs in as the admin and checks its privileges'],
        ],
        subcommands: [
          {
            name: 'set',
            operands: [database(true)],
            about: 'store the admin password in the OS keychain',
            load: () => import('./commands/admin-set.js'),
            options: [
              { flags: '--password-stdin', about: 'read the password from stdin' },
              { flags: '--no-verify', about: 'store it without logging in with it first' },
            ],
            examples: [
              ['jit admin set prod-db', 'asks for the password (hidden), logs in with it, stores it'],
              ['op read op://ops/prod-db/password | jit admin set prod-db --password-stdin', 'from a password manager'],
              ['jit admin set prod-db --no-verify', 'store it while the server is unreachable'],
            ],
          },
          {
            name: 'test',
            operands: [database(true)],
            about: 'log in as the admin and check its privileges',
            load: () => import('./commands/admin-test.js'),
            servers: true,
            options: [],
            examples: [
              ['jit admin test prod-db', 'a PostgreSQL database'],
              ['jit admin test shop', 'a MySQL/MariaDB database'],
            ],
          },
          {
            name: 'bootstrap',
            operands: [database(true)],
            about: 'the SQL for an admin with just what the policy needs (--apply: run it)',
            load: () => import('./commands/admin-bootstrap.js'),
            options: [
              { flags: '--apply', about: 'log in as a DBA and run what the admin lacks' },
              { flags: '--dba-user <name>', about: 'the DBA account (default postgres, root for MySQL)' },
              { flags: '--dba-password <source>', about: 'env:NAME or command:CMD (default: asked for); never stored' },
            ],
            examples: [
              ['jit admin bootstrap prod-db', 'print the SQL, for a DBA to review and run'],
              ['jit admin bootstrap prod-db --apply', 'run it as postgres (asks for its password), store the admin password'],
              ['jit admin bootstrap prod-db --apply --dba-user rds_admin --dba-password env:DBA_PW', 'on RDS, in a script'],
            ],
          },
          {
            name: 'forget',
            operands: [database(true)],
            about: 'delete the admin password from the OS keychain',
            load: () => import('./commands/admin-forget.js'),
            options: [],
            examples: [['jit admin forget prod-db', "remove prod-db's admin password"]],
          },
        ],
      },
      {
        name: 'policy',
        operands: [],
        about: 'work with policy files',
        options: [],
        examples: [['jit policy check', 'validate the policy jit would use']],
        subcommands: [
          {
            name: 'check',
            operands: [{ name: 'file', complete: 'file' }],
            about: 'validate a policy file',
            load: () => import('./commands/policy-check.js'),
            options: [],
            examples: [
              ['jit policy check', 'the policy jit would use (--policy, $JIT_POLICY, ./jit.yaml, …)'],
              ['jit policy check examples/policies/postgres.yaml', 'a file of your choosing; nothing is contacted'],
              ['jit policy check --json', 'the result as JSON'],
            ],
          },
        ],
      },
      {
        name: 'completion',
        operands: [{ name: 'shell', required: true, complete: SHELLS }],
        about: 'print a shell completion script (bash, zsh or fish)',
        load: () => import('./commands/completion.js'),
        options: [],
        examples: [
          ['source <(jit completion bash)', 'completion in this bash (add the line to ~/.bashrc)'],
          ['jit completion zsh > "${fpath[1]}/_jit"', 'zsh, for every new shell'],
          ['jit completion fish > ~/.config/fish/completions/jit.fish', 'fish, for every new shell'],
        ],
      },
    ],
  },
];

export const VERSION = '0.1.0';
export const DESCRIPTION = 'Just-in-time database logins: least privilege, hard expiry, revoked when you are done.';

export const ROOT_EXAMPLES: readonly Example[] = [
  ['jit connect prod-db --role readonly', 'psql as a readonly login, dropped when you quit'],
  ['export DATABASE_URL=$(jit uri prod-db --role readonly --ttl 10m)', 'a URI for a script'],
  ['jit revoke --all --yes', "on-call: every jit login, everyone's, gone now"],
];

/** Examples after a command's help. */
export function examplesText(examples: readonly Example[]): string {
  return `\nExamples:\n${examples.map(([line, what]) => `  # ${what}\n  $ ${line}\n`).join('')}`;
}

/** What `jit --help` shows after commander's own part. */
export const ROOT_HELP_AFTER = examplesText(ROOT_EXAMPLES) + "\nRun 'jit COMMAND --help' for a command's options and examples.\n";

/** `jit help [command]`, commander's own, listed last in `jit --help`. */
export const HELP_COMMAND = { spec: 'help [command]', about: 'show help for a command' } as const;

/** Every top-level command, in help order. */
export const COMMANDS: readonly CommandSpec[] = GROUPS.flatMap((g) => g.commands);

/** The command (or subcommand of `parent`) a word names, aliases included. */
export function findCommand(word: string | undefined, within: readonly CommandSpec[] = COMMANDS): CommandSpec | undefined {
  return within.find((c) => c.name === word || (c.aliases ?? []).includes(word ?? ''));
}

/** An option's flags taken apart: `-y, --yes` → long `yes`, short `y`; `--no-verify` → negates `verify`. */
export interface ParsedFlags {
  long: string;
  short?: string;
  takesValue: boolean;
  /** The key commander stores the value under: camelCase, without a `no-` prefix. */
  key: string;
  negate: boolean;
}

export function parseFlags(flags: string): ParsedFlags {
  const m = /^(?:-(\w), )?--([\w-]+)(?: [<[].*)?$/.exec(flags);
  if (!m) throw new Error(`bad flags in the command table: ${flags}`);
  const long = m[2]!;
  const negate = long.startsWith('no-');
  const key = (negate ? long.slice(3) : long).replace(/-(\w)/g, (_, c: string) => c.toUpperCase());
  return { long, ...(m[1] ? { short: m[1] } : {}), takesValue: / [<[]/.test(flags), key, negate };
}

/** Commander's operand notation: `[database]`, `<database>`, `[command...]`. */
export function operandSpec(o: OperandSpec): string {
  const inner = `${o.name}${o.variadic ? '...' : ''}`;
  return o.required ? `<${inner}>` : `[${inner}]`;
}
