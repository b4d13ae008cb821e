import { afterAll, beforeAll, describe, expect, it, vi, type MockInstance } from 'vitest';
import { parseFast } from './fast-path.js';
import { runProgram } from './program.js';
import { COMMANDS, GLOBAL_OPTIONS, parseFlags, type CommandSpec, type OptionSpec } from './command-table.js';

/** What commander makes of argv: the command it runs with its operands and options, or the error. */
async function viaCommander(argv: string[]) {
  const calls: Array<{ path: string[]; args: unknown[]; opts: Record<string, unknown> }> = [];
  try {
    const code = await runProgram(argv, {}, { entryScript: '', cwd: '/', run: async (path, args, opts) => (calls.push({ path, args, opts }), 0) });
    return calls[0] ?? { exit: code };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

const leaves = (specs: readonly CommandSpec[], parent: string[] = []): Array<{ path: string[]; spec: CommandSpec }> =>
  specs.flatMap((s) => [...(s.load ? [{ path: [...parent, s.name], spec: s }] : []), ...leaves(s.subcommands ?? [], [...parent, s.name])]);

const valueFor = (o: OptionSpec) => o.choices?.[1] ?? o.default ?? 'v';

/** Command lines for every command of the table: its flags in each form and place, operands, `--`, and mistakes. */
function corpus(): string[][] {
  const out: string[][] = [];
  for (const { path, spec } of leaves(COMMANDS)) {
    const operand = spec.operands.length ? ['db'] : [];
    const required = spec.options.filter((o) => o.required).flatMap((o) => [parseFlags(o.flags).long, valueFor(o)].map((w, i) => (i ? w : `--${w}`)));
    const base = [...path, ...operand, ...required];
    out.push(base, [...path], [...path, ...required], [...base, 'extra'], [...base, '--bogus'], [...base, '-h'], [...base, '--']);
    out.push([...base, '--', 'x'], [...path, '--', 'db', ...required], [...path, ...required, '--', 'db', 'x']);
    for (const o of [...spec.options, ...GLOBAL_OPTIONS]) {
      const f = parseFlags(o.flags);
      if (f.takesValue) {
        out.push([...base, `--${f.long}`, valueFor(o)], [...path, `--${f.long}=${valueFor(o)}`, ...operand, ...required], [...base, `--${f.long}`]);
        out.push([...base, `--${f.long}`, '--json'], [...base, `--${f.long}`, 'x', `--${f.long}`, 'y'], [...base, `--${f.long}=`]);
        if (o.choices) out.push([...base, `--${f.long}`, 'nope']);
      } else {
        out.push([...base, `--${f.long}`], [...path, `--${f.long}`, ...operand, ...required], [...base, `--${f.long}=yes`]);
        if (f.short) out.push([...base, `-${f.short}`], [...base, `-${f.short}q`], [...base, `-q${f.short}`]);
      }
    }
    if (spec.operands.at(-1)?.variadic) {
      out.push([...base, 'psql', '-c', 'select 1'], [...base, '--role', 'r', '--', 'psql', '-c', 'select 1', '--role', 'x']);
      out.push([...path, '--role', 'r', '--', 'true'], [...base, 'a', '--', 'b'], [...base, '--', '--', 'b'], [...base, '--reason', '--', 'x']);
    }
  }
  out.push(['databases', 'db'], ['databases', '--json'], [], ['--json', 'list'], ['-q', '--policy', 'p', 'uri', 'db'], ['--policy=p', 'admin', 'set', 'db'], ['--policy'], ['--json', '--', 'list'], ['help', 'uri'], ['admin'], ['admin', 'sett', 'db'], ['lsit']);
  return out;
}

describe('the fast parser and commander read the command table alike', () => {
  const lines = corpus();
  // Commander prints the help screens of the corpus's -h lines.
  let spies: MockInstance[];
  beforeAll(() => void (spies = [process.stdout, process.stderr].map((s) => vi.spyOn(s, 'write').mockImplementation(() => true))));
  afterAll(() => spies.forEach((s) => s.mockRestore()));

  it('has a corpus that covers every command', () => {
    expect(lines.length).toBeGreaterThan(400);
  });

  it.each(lines.map((argv) => [argv.join(' ') || '(nothing)', argv]))('%s', async (_, argv) => {
    const fast = parseFast(argv as string[]);
    const commander = await viaCommander(argv as string[]);
    if (fast) {
      // Where the fast parser answers, commander answers the same: command, operands, options.
      expect(commander).toEqual({ path: fast.path, args: fast.args, opts: fast.opts });
    } else if ('path' in commander) {
      // Where it leaves to commander what commander accepts: help, a group of short flags, or a
      // flag's value that looks like a flag (parseArgs calls that ambiguous).
      const unsure = (a: string[]) => a.some((w, i) => w === '-h' || /^-[a-z]{2,}$/.test(w) || (/^--[a-z]/.test(w) && a[i + 1]?.startsWith('-')));
      expect(argv as string[]).toSatisfy(unsure);
    }
  });

  it('exec: everything after -- is the child, options included', () => {
    expect(parseFast(['exec', 'db', '--role', 'r', '--', 'psql', '-c', 'select 1', '--role', 'x'])).toMatchObject({
      path: ['exec'],
      args: ['db', ['psql', '-c', 'select 1', '--role', 'x']],
      opts: { role: 'r', color: true, afterDashDash: ['psql', '-c', 'select 1', '--role', 'x'] },
    });
  });

  it('answers list and the other commands too, so they start without commander', () => {
    expect(parseFast(['list'])).toMatchObject({ path: ['list'], args: [], opts: { color: true } });
    expect(parseFast(['admin', 'set', 'db', '--no-verify'])).toMatchObject({ path: ['admin', 'set'], args: ['db'], opts: { verify: false } });
    expect(parseFast(['databases'])).toMatchObject({ path: ['ls'] });
  });
});
