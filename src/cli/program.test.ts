import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { helpExamples, runProgram } from './program.js';

// Help examples must work as written with README's sample policies: each parses, and names a
// database, role, reason and tables those policies have.

interface SampleRole {
  require_reason?: boolean;
  grants?: Array<{ tables?: string[] }>;
}
const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const databases: Record<string, { roles: Record<string, SampleRole> }> = Object.assign(
  {},
  ...[...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => (parse(m[1]!) as { databases?: object }).databases ?? {}),
);

/** The words of the `jit …` invocation in an example line, as a POSIX shell would split them. */
function jitArgv(line: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let quote: string | undefined;
  for (const ch of line.slice(line.indexOf('jit ') + 4)) {
    if (quote) {
      if (ch === quote) quote = undefined;
      else word = (word ?? '') + ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      word ??= '';
    } else if (/[|>)]/.test(ch)) break;
    else if (ch === ' ') {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else word = (word ?? '') + ch;
  }
  if (word !== undefined) words.push(word);
  return words;
}

const TAKES_DATABASE = new Set(['connect', 'uri', 'env', 'exec', 'ls', 'sessions', 'doctor', 'admin']);

describe('help examples', () => {
  const examples = helpExamples();

  it('every command has some', () => {
    expect(examples.length).toBeGreaterThan(40);
    expect(Object.keys(databases).sort()).toEqual(['prod-db', 'shop']);
  });

  it.each(examples.map((e) => [e.path.join(' ') || 'jit', e.line]))('%s: %s', async (name, line) => {
    const argv = jitArgv(line);
    const calls: Array<{ path: string[]; args: unknown[]; opts: Record<string, unknown> }> = [];
    const code = await runProgram(argv, {}, { entryScript: '', cwd: '/', run: async (path, args, opts) => (calls.push({ path, args, opts }), 0) });
    expect(code).toBe(0);
    expect(calls).toHaveLength(1);
    const { path, args, opts } = calls[0]!;
    if (name !== 'jit') expect(`${path.join(' ')} `).toMatch(new RegExp(`^${name} `));
    const db = (TAKES_DATABASE.has(path[0]!) ? args[0] : undefined) ?? opts.database;
    if (db !== undefined) expect(Object.keys(databases)).toContain(db);
    if (path.join(' ') === 'policy check' && typeof args[0] === 'string') expect(existsSync(new URL(`../../${args[0]}`, import.meta.url))).toBe(true);
    if (opts.role !== undefined) {
      const role = databases[db as string]?.roles[opts.role as string];
      expect(role, `role ${String(opts.role)} of ${String(db)}`).toBeDefined();
      if (role!.require_reason) expect(opts.reason).toBeTruthy();
      const tables = (role!.grants ?? []).flatMap((g) => g.tables ?? []);
      for (const t of opts.only ? String(opts.only).split(',') : []) expect(tables).toContain(t.includes('.') ? t : `public.${t}`);
    }
  });
});
