import { DESCRIPTION, GLOBAL_OPTIONS, GROUPS, HELP_COMMAND, operandSpec, ROOT_HELP_AFTER, type CommandSpec } from './command-table.js';

// `jit --help` without loading commander (~10 ms of CPU, a sixth of its start-up), rendered from the command
// table as commander's Help renders the same program: root-help.test.ts holds the two to be
// byte-identical at every terminal width. Any other help screen is commander's.

const MIN_WIDTH_TO_WRAP = 40;

/** Commander's Help.boxWrap: wrap at whitespace, keeping line breaks; not below 40 columns. */
function boxWrap(text: string, width: number): string {
  if (width < MIN_WIDTH_TO_WRAP) return text;
  const out: string[] = [];
  for (const line of text.split(/\r\n|\n/)) {
    const chunks = line.match(/[\s]*[^\s]+/g);
    if (!chunks) {
      out.push('');
      continue;
    }
    let sum = [chunks.shift()!];
    let sumWidth = sum[0]!.length;
    for (const chunk of chunks) {
      if (sumWidth + chunk.length <= width) {
        sum.push(chunk);
        sumWidth += chunk.length;
        continue;
      }
      out.push(sum.join(''));
      const next = chunk.trimStart();
      sum = [next];
      sumWidth = next.length;
    }
    out.push(sum.join(''));
  }
  return out.join('\n');
}

/** Commander's subcommand term: `name|alias [options] <operands>`. */
const term = (c: CommandSpec) =>
  [c.name + (c.aliases?.[0] ? `|${c.aliases[0]}` : ''), ...(c.options.length ? ['[options]'] : []), ...c.operands.map(operandSpec)].join(' ');

/** The whole of `jit --help` for a terminal `width` columns wide (80 when not a terminal). */
export function rootHelp(width = 80): string {
  const options: Array<[string, string]> = [['-V, --version', 'output the version number'], ...GLOBAL_OPTIONS.map((o): [string, string] => [o.flags, o.about]), ['-h, --help', 'display help for command']];
  const groups: Array<[string, Array<[string, string]>]> = [
    ['Options:', options],
    ...GROUPS.map((g): [string, Array<[string, string]>] => [g.title, g.commands.map((c): [string, string] => [term(c), c.about])]),
    ['Help:', [[HELP_COMMAND.spec, HELP_COMMAND.about]]],
  ];
  const termWidth = Math.max(...groups.flatMap(([, items]) => items.map(([t]) => t.length)));
  const remaining = width - termWidth - 4;
  const item = ([t, about]: [string, string]) => {
    const text = remaining < MIN_WIDTH_TO_WRAP || /\n[^\S\r\n]/.test(about) ? about : boxWrap(about, remaining).replace(/\n/g, `\n${' '.repeat(termWidth + 2)}`);
    return `  ${t.padEnd(termWidth)}  ${text.replace(/\n/g, '\n  ')}`;
  };
  const lines = ['Usage: jit [options] [command]', '', boxWrap(DESCRIPTION, width), ''];
  for (const [title, items] of groups) lines.push(title, ...items.map(item), '');
  return `${lines.join('\n')}${ROOT_HELP_AFTER}\n`;
}

/** `jit --help` / `jit -h` and nothing else: the screen rootHelp() draws. */
export function isRootHelp(argv: string[]): boolean {
  return argv.length === 1 && (argv[0] === '--help' || argv[0] === '-h');
}
