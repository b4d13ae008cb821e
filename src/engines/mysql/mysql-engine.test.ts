import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

/** A module hook that refuses to resolve mysql2: whoever imports it fails loudly. */
const HOOKS = `export async function resolve(specifier, context, next) {
  if (specifier === 'mysql2' || specifier.startsWith('mysql2/')) throw new Error('mysql2 was loaded');
  return next(specifier, context);
}`;
const REGISTER = `import { register } from 'node:module'; register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(HOOKS)}));`;

describe('mysql engine module', () => {
  it('loads no driver until it connects (mysql2 is imported inside connectAdmin)', async () => {
    // Node 20 runs no TypeScript: the child loads the build (the global setup insists it exists).
    const built = fileURLToPath(new URL('../../../dist/engines/mysql/mysql-engine.js', import.meta.url));
    const script = `
      const { mysqlEngine } = await import(${JSON.stringify(built)});
      const t = { engine: 'mysql', host: '127.0.0.1', port: 1, database: 'app', tls: 'disable', adminUser: 'a' };
      mysqlEngine.buildUri(t, 'jit_a', 'pw');
      mysqlEngine.clientEnv(t, 'jit_a', 'pw');
      console.log('loaded');
      const err = await mysqlEngine.connectAdmin(t, 'pw').catch((e) => e);
      console.log(String(err && err.message));
    `;
    const { stdout } = await run(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(REGISTER)}`, '--input-type=module', '-e', script]);
    const [first, second] = stdout.trim().split('\n');
    expect(first).toBe('loaded');
    // The hook fires only when connecting: proof that it works and that nothing before needed mysql2.
    expect(second).toMatch(/mysql2 was loaded/);
  });
});
