import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { JIT_BIN } from '../helpers/jit-cli.js';
import { startInTmux, type Term } from '../helpers/tmux.js';
import { removeTestDir } from '../helpers/processes.js';

// Small things found when jit was tried, none needing a server.

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const POLICY = `version: 1
databases:
  a-db:
    engine: postgres
    host: 127.0.0.1
    port: 1
    database: app
    admin: { user: jit_admin, password: "env:NOT_SET" }
    roles:
      readonly: { grants: [{ privileges: [SELECT], tables: [public.orders] }] }
  b-db:
    engine: postgres
    host: 127.0.0.1
    port: 1
    database: app
    admin: { user: jit_admin, password: "env:NOT_SET" }
    roles:
      readonly: { grants: [{ privileges: [SELECT], tables: [public.orders] }] }
`;

let dir: string;
const terms: Term[] = [];
const baseEnv = () => ({ PATH: process.env.PATH, HOME: dir, JIT_HOME: join(dir, 'state'), XDG_CONFIG_HOME: join(dir, 'config'), NO_COLOR: '1' });
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jit-small-'));
  await writeFile(join(dir, 'jit.yaml'), POLICY);
});
afterAll(async () => {
  terms.splice(0).forEach((t) => t.kill());
  await removeTestDir(dir);
});

function jit(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [JIT_BIN, ...args], { cwd: dir, env: { ...baseEnv(), ...env }, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('small things', () => {
  it('policy check on a directory says it is a directory', async () => {
    await mkdir(join(dir, 'policies'), { recursive: true });
    const r = jit(['policy', 'check', 'policies']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: .*policies is a directory, not a policy file$/m);
    expect(r.stderr).toMatch(/^hint: pass the file inside it, e\.g\. jit policy check policies\/jit\.yaml$/m);
    expect(r.stderr).not.toMatch(/does not exist/);
  });

  it('--ttl says why it refuses what it refuses, before connecting to anything', () => {
    const frac = jit(['uri', 'a-db', '--role', 'readonly', '--ttl', '1.5s']);
    expect(frac.code).toBe(2);
    expect(frac.stderr).toMatch(/^error: --ttl "1\.5s" is not a whole number of seconds$/m);
    const bare = jit(['uri', 'a-db', '--role', 'readonly', '--ttl', '90']);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toMatch(/^error: --ttl "90" has no unit\nhint: add one: 90s, 90m or 90h$/m);
  });

  it('the package ships an MIT LICENSE, as package.json says', async () => {
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8'));
    expect(pkg.license).toBe('MIT');
    const text = await readFile(join(ROOT, 'LICENSE'), 'utf8');
    expect(text).toMatch(/^MIT License\n\nCopyright \(c\) \d{4} the jit authors\n/);
    expect(text).toContain('THE SOFTWARE IS PROVIDED "AS IS"');
    const pack = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8' });
    expect(pack.status).toBe(0);
    expect(JSON.parse(pack.stdout)[0].files.map((f: { path: string }) => f.path)).toContain('LICENSE');
  });

  it('the package is lean: the bundle once, no source maps, no sources, no tests', () => {
    const pack = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8' });
    expect(pack.status).toBe(0);
    const files: string[] = JSON.parse(pack.stdout)[0].files.map((f: { path: string }) => f.path);
    expect(files).toContain('bin/jit.js');
    expect(files).toContain('dist/bundle/main.cjs');
    expect(files.filter((f) => f.endsWith('.map') || f.startsWith('src/') || f.startsWith('test/') || (f.startsWith('dist/') && !f.startsWith('dist/bundle/')))).toEqual([]);
  });

  it('JIT_NO_PROMPT=1 turns prompts off on a terminal: a missing database is then exit 2 naming it', async () => {
    const env = { ...baseEnv(), TERM: 'xterm-256color' };
    // On the same terminal without it, jit asks: the test really has a terminal.
    const asks = startInTmux('asks', dir, env, `${process.execPath} ${JIT_BIN} uri`);
    terms.push(asks);
    expect(await asks.waitFor(/Database/)).toBe(true);
    asks.send('C-c');
    expect(await asks.waitFor(/EXIT=130/)).toBe(true);

    const quiet = startInTmux('noprompt', dir, { ...env, JIT_NO_PROMPT: '1' }, `${process.execPath} ${JIT_BIN} uri`);
    terms.push(quiet);
    expect(await quiet.waitFor(/EXIT=\d+/)).toBe(true);
    const screen = quiet.screen();
    expect(screen).toMatch(/error: missing database\s*\nhint: pass it as the first argument, one of: a-db, b-db/);
    expect(screen).toMatch(/EXIT=2/);
    expect(screen).not.toMatch(/\? Database/);
  });

  it('JIT_NO_PROMPT=1: revoke --all without --yes is refused before any server is asked, and says why', async () => {
    const t = startInTmux('revoke-all', dir, { ...baseEnv(), TERM: 'xterm-256color', JIT_NO_PROMPT: '1' }, `${process.execPath} ${JIT_BIN} revoke --all`);
    terms.push(t);
    expect(await t.waitFor(/EXIT=\d+/)).toBe(true);
    expect(t.screen()).toMatch(/error: revoke --all needs confirmation\s*\nhint: pass --yes to confirm \(JIT_NO_PROMPT is set\)/);
    expect(t.screen()).toMatch(/EXIT=2/);
  });
});
