import { readFileSync } from 'node:fs';

/**
 * The SQL block of README.md under `<!-- jit:<anchor> … -->`: the tests run README's admin SQL
 * itself, so the manual cannot drift from what was tested.
 */
export function readmeSqlBlock(anchor: string): string {
  const md = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const at = md.indexOf(`<!-- jit:${anchor}`);
  if (at < 0) throw new Error(`README.md lost its <!-- jit:${anchor} --> anchor`);
  const block = /^```sql\n([\s\S]*?)^```$/m.exec(md.slice(at));
  if (!block) throw new Error(`no \`\`\`sql block after the README anchor jit:${anchor}`);
  return block[1]!;
}
