import { COMMANDS, findCommand, GLOBAL_OPTIONS, HELP_COMMAND, parseFlags, type CommandSpec, type Completion, type OptionSpec } from './command-table.js';
import { hasControl, escapeControl } from '../core/terminal-text.js';
import { stateDir } from '../leases/paths.js';
import { LeaseStore } from '../leases/lease-store.js';
import { formatDuration } from '../core/duration.js';
import { relative } from '../core/time-text.js';

// `jit __complete WORD… CURRENT`: what a shell's completion script asks for on Tab, the words
// after `jit`, the last one the word being completed (empty for a new one). The protocol is
// cobra's (spf13/cobra, shell_completions.md; what `gh` and `kubectl` use): one candidate per
// line, `name<TAB>description` where there is one, and a last directive line; jit has a single
// directive, `:files` (complete file names instead), where cobra has bit flags (`:4` no files).

/** One thing Tab may insert, and what it is (zsh and fish show it). */
export interface Candidate {
  name: string;
  about?: string;
}

export interface Answer {
  candidates: Candidate[];
  files: boolean;
}

/** Where the policy and leases are read from: the same rules as every other command. */
export interface CompletionSources {
  databases(policyFlag: string | undefined): Promise<Array<{ name: string; about: string; roles: Candidate[] }>>;
  leases(): Promise<Candidate[]>;
}

interface Walk {
  /** The innermost command named so far; undefined at `jit` itself. */
  spec?: CommandSpec;
  operands: string[];
  /** The option whose value the current word is. */
  valueFor?: OptionSpec;
  afterDashDash: boolean;
  policyFlag?: string;
}

const optionsOf = (spec?: CommandSpec) => [...(spec?.options ?? []), ...GLOBAL_OPTIONS];

function findOption(word: string, spec?: CommandSpec): OptionSpec | undefined {
  return optionsOf(spec).find((o) => {
    const f = parseFlags(o.flags);
    return word === `--${f.long}` || (f.short !== undefined && word === `-${f.short}`);
  });
}

/** Read the words before the current one as commander would: commands, flags and their values, operands. */
function walk(words: string[]): Walk {
  const w: Walk = { operands: [], afterDashDash: false };
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if (w.afterDashDash) w.operands.push(word);
    else if (word === '--') w.afterDashDash = true;
    else if (word.startsWith('-') && word.length > 1) {
      const [flag, inline] = word.startsWith('--') && word.includes('=') ? [word.slice(0, word.indexOf('=')), word.slice(word.indexOf('=') + 1)] : [word, undefined];
      const option = findOption(flag, w.spec);
      if (!option || !parseFlags(option.flags).takesValue || inline !== undefined) {
        if (option && parseFlags(option.flags).long === 'policy') w.policyFlag = inline;
        continue;
      }
      if (i === words.length - 1) w.valueFor = option;
      else if (parseFlags(option.flags).long === 'policy') w.policyFlag = words[i + 1];
      i++;
    } else {
      const sub = !w.spec ? findCommand(word) : w.spec.subcommands && w.operands.length === 0 ? findCommand(word, w.spec.subcommands) : undefined;
      if (sub) w.spec = sub;
      else w.operands.push(word);
    }
  }
  return w;
}

export async function complete(words: string[], sources: CompletionSources): Promise<Answer> {
  const current = words.at(-1) ?? '';
  const before = words.slice(0, -1);
  const w = walk(before);
  const none: Answer = { candidates: [], files: false };
  const values = async (kind: Completion | undefined, prefix = ''): Promise<Answer> => {
    if (kind === undefined) return none;
    if (kind === 'file') return { candidates: [], files: true };
    let candidates: Candidate[];
    if (typeof kind !== 'string') candidates = kind.map((name) => ({ name }));
    else if (kind === 'lease') candidates = await sources.leases();
    else {
      const dbs = await sources.databases(w.policyFlag);
      if (kind === 'database') candidates = dbs;
      else {
        // The roles of the database named before, else of every database.
        const named = dbs.find((d) => w.spec?.operands[0]?.complete === 'database' && d.name === w.operands[0]);
        const roles = (named ? [named] : dbs).flatMap((d) => d.roles);
        candidates = roles.filter((r, i) => roles.findIndex((x) => x.name === r.name) === i);
      }
    }
    return { candidates: candidates.map((c) => ({ ...c, name: prefix + c.name })), files: false };
  };

  if (w.valueFor) return values(w.valueFor.complete);
  if (w.afterDashDash && w.spec?.dashDash) return { candidates: [], files: true };
  if (!w.afterDashDash && current.startsWith('--') && current.includes('=')) {
    const flag = current.slice(0, current.indexOf('='));
    const option = findOption(flag, w.spec);
    return option && parseFlags(option.flags).takesValue ? values(option.complete, `${flag}=`) : none;
  }
  if (!w.afterDashDash && current.startsWith('-')) {
    const flags = optionsOf(w.spec).map((o) => ({ name: `--${parseFlags(o.flags).long}`, about: o.about }));
    return { candidates: [...flags, { name: '--help', about: 'show help for this command' }], files: false };
  }
  if (!w.spec) return { candidates: [...COMMANDS.map((c) => ({ name: c.name, about: c.about })), { name: 'help', about: HELP_COMMAND.about }], files: false };
  if (w.spec.subcommands) return w.operands.length === 0 ? { candidates: w.spec.subcommands.map((c) => ({ name: c.name, about: c.about })), files: false } : none;
  const operand = w.spec.operands[w.operands.length] ?? (w.spec.operands.at(-1)?.variadic ? w.spec.operands.at(-1) : undefined);
  return values(operand?.complete);
}

/** The answer as the completion scripts read it; names a shell could not insert as typed are left out. */
export function formatAnswer(answer: Answer, current: string): string {
  const lines = answer.candidates
    .filter((c) => c.name.startsWith(current) && !hasControl(c.name) && !/\s/.test(c.name))
    .map((c) => (c.about ? `${c.name}\t${escapeControl(c.about).replace(/\s+/g, ' ')}` : c.name));
  if (answer.files) lines.push(':files');
  return lines.length ? `${lines.join('\n')}\n` : '';
}

/** The policy and lease store as the other commands find them ($JIT_POLICY, ./jit.yaml, $JIT_HOME…). */
export function systemSources(env: NodeJS.ProcessEnv, cwd: string): CompletionSources {
  const root = stateDir(env);
  return {
    async databases(policyFlag) {
      const { loadPolicy } = await import('../policy/load.js');
      const policy = await loadPolicy({ flag: policyFlag, env, cwd, cacheDir: root });
      return Object.values(policy.databases).map((db) => ({
        name: db.name,
        about: `${db.engine} ${db.host}:${db.port}/${db.database}`,
        roles: Object.values(db.roles).map((r) => ({ name: r.name, about: `${db.name}, ttl ${formatDuration(r.ttlMs)}` })),
      }));
    },
    async leases() {
      const scan = await new LeaseStore(root).scan();
      return scan.leases.map((l) => ({ name: l.id, about: `${l.database} ${l.role} ${l.user}, expires ${relative(l.expiresAt, Date.now())}` }));
    },
  };
}

/**
 * Run by `jit __complete`: never a word on stderr and always exit 0, whatever is broken (a
 * policy that does not parse, an unreadable state directory): a shell would print it mid-line.
 */
export async function runComplete(words: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<number> {
  const sources = systemSources(env, cwd);
  const quiet: CompletionSources = {
    databases: (flag) => sources.databases(flag).catch(() => []),
    leases: () => sources.leases().catch(() => []),
  };
  try {
    const answer = await complete(words.length ? words : [''], quiet);
    process.stdout.write(formatAnswer(answer, words.at(-1) ?? ''));
  } catch {
    // nothing for the shell to show
  }
  return 0;
}
