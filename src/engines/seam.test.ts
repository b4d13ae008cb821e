import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ENGINE_NAMES, profileOf } from './registry.js';

const SRC = fileURLToPath(new URL('..', import.meta.url));
const ENGINES = fileURLToPath(new URL('.', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [p] : [];
  });
}

// `engine === 'mysql'`, `db.engine !== 'postgres'`, `'postgres' === x`, a switch on an engine name.
const ENGINE_BRANCH = /\bengine\s*[!=]==|[!=]==\s*'(postgres|mysql)'|'(postgres|mysql)'\s*[!=]==|switch\s*\([^)]*engine[^)]*\)|case\s+'(postgres|mysql)'/;

describe('the engine seam', () => {
  it('leaves no branch on an engine name outside src/engines/', () => {
    const offenders = sources(SRC)
      .filter((f) => !f.startsWith(ENGINES))
      .flatMap((f) =>
        readFileSync(f, 'utf8')
          .split('\n')
          .map((line, i) => ({ line, at: `${relative(SRC, f)}:${i + 1}` }))
          .filter(({ line }) => ENGINE_BRANCH.test(line) && !line.trim().startsWith('//') && !line.trim().startsWith('*'))
          .map(({ line, at }) => `${at}: ${line.trim()}`),
      );
    expect(offenders).toEqual([]);
  });

  it('catches the branches it is meant to catch', () => {
    for (const line of ["if (db.engine === 'postgres')", "x.engine !== 'mysql'", "'mysql' === e", "switch (target.engine) {", "case 'postgres':"]) {
      expect(ENGINE_BRANCH.test(line), line).toBe(true);
    }
  });

  it('has a complete, self-consistent profile for every engine', () => {
    for (const name of ENGINE_NAMES) {
      const p = profileOf(name);
      expect(p.name).toBe(name);
      expect(p.client.binaries.length).toBeGreaterThan(0);
      expect(p.clientEnvNames).toContain('DATABASE_URL');
      expect(p.maxLoginLength).toBeLessThanOrEqual(p.maxIdentifierLength);
      expect(p.systemSchema('information_schema')).toBe(true);
      expect(p.systemSchema(p.defaultSchema('app'))).toBe(false);
      for (const refused of Object.keys(p.refusedPrivileges)) expect(p.tablePrivileges).not.toContain(refused);
      expect(p.capabilities.sequences).toBe(p.sequencePrivileges !== null);
    }
  });
});
