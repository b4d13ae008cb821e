import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// `jit uri` is benchmarked against a bare node+pg script (bench/mint.js); what keeps it close is
// that its path loads one chunk of jit's own code and nothing it does not use.

const dir = fileURLToPath(new URL('../../dist/bundle/', import.meta.url));
const files = readdirSync(dir).filter((f) => f.endsWith('.cjs'));
// A chunk's static requires are `const require_x=require("./x.cjs")` statements; the lazy ones are
// inside `Promise.resolve().then(() => require(…))`.
const staticImports = (file: string) => [...readFileSync(join(dir, file), 'utf8').matchAll(/(?:^|;)const \w+ ?= ?require\("\.\/([^"]+)"\)/g)].map((m) => m[1]!);

function closure(entry: string): Set<string> {
  const seen = new Set<string>();
  const visit = (f: string) => {
    if (seen.has(f)) return;
    seen.add(f);
    staticImports(f).forEach(visit);
  };
  visit(entry);
  return seen;
}

describe('the shipped bundle', () => {
  it('starts with jit code only: no commander, YAML parser, prompts or spinner until a command needs them', () => {
    const loaded = [...closure('main.cjs')];
    expect(loaded.some((f) => f.startsWith('jit-'))).toBe(true);
    for (const f of loaded) {
      // What each chunk was built from: its source map (built, not shipped). The entry, which
      // only re-exports, and rolldown's runtime have none.
      if (f === 'main.cjs' || f.startsWith('rolldown-runtime-')) continue;
      const sources: string[] = JSON.parse(readFileSync(join(dir, `${f}.map`), 'utf8')).sources;
      expect(sources.length, f).toBeGreaterThan(0);
      expect(sources.filter((s) => /node_modules\/(commander|yaml|ora|@inquirer)\//.test(s)), f).toEqual([]);
    }
    expect(files.some((f) => f.startsWith('commander-'))).toBe(true);
    expect(files.some((f) => f.startsWith('policy-validate-'))).toBe(true);
  });
});
