import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// The arrows run one way: cli/ builds on lifecycle/ and reaper/, never the other way round.
// The reaper runs without a terminal or a policy; what lifecycle needs from above comes in
// through src/lifecycle/context.ts.

const src = dirname(fileURLToPath(import.meta.url));
const BELOW_CLI = ['lifecycle', 'reaper'];

/** Every module specifier a file names: static imports and re-exports, and import(). */
function specifiers(text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/(?:^|[\s;}])(?:import|export)\s[^'"]*?\sfrom\s*['"]([^'"]+)['"]/g)) found.push(m[1]!);
  for (const m of text.matchAll(/(?:^|[\s;])import\s*['"]([^'"]+)['"]/g)) found.push(m[1]!);
  for (const m of text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) found.push(m[1]!);
  return found;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

describe('layering', () => {
  it('finds every kind of import, so the check below cannot pass by missing one', () => {
    const text = [
      "import type { Deps } from '../cli/deps.js';",
      "import {\n  a,\n  b,\n} from '../cli/io.js';",
      "export { x } from '../cli/output.js';",
      "import '../cli/side-effect.js';",
      "const m = await import('../cli/spinner.js');",
    ].join('\n');
    expect(specifiers(text)).toEqual(['../cli/deps.js', '../cli/io.js', '../cli/output.js', '../cli/side-effect.js', '../cli/spinner.js']);
  });

  it('src/lifecycle and src/reaper import nothing from src/cli', () => {
    const cli = join(src, 'cli');
    const offending: string[] = [];
    for (const layer of BELOW_CLI) {
      const files = sourceFiles(join(src, layer));
      expect(files.length).toBeGreaterThan(0);
      for (const file of files) {
        for (const spec of specifiers(readFileSync(file, 'utf8'))) {
          if (!spec.startsWith('.')) continue;
          const target = resolve(dirname(file), spec);
          if (target === cli || !relative(cli, target).startsWith('..')) offending.push(`${relative(src, file)} imports ${spec}`);
        }
      }
    }
    expect(offending).toEqual([]);
  });
});
