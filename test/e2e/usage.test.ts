import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { JIT_BIN } from '../helpers/jit-cli.js';
import { removeTestDir } from '../helpers/processes.js';

// Commands that need no server: help, usage errors, init, policy check.

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jit-usage-'));
});
afterAll(async () => {
  await removeTestDir(dir);
});

function jit(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [JIT_BIN, ...args], {
    cwd: dir,
    env: { PATH: process.env.PATH, HOME: dir, JIT_HOME: join(dir, 'state'), XDG_CONFIG_HOME: join(dir, 'config'), NO_COLOR: '1', ...env },
    encoding: 'utf8',
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('usage', () => {
  it('--help and --version exit 0 on stdout; no command or an unknown one exits 2', () => {
    const help = jit(['--help']);
    expect(help.code).toBe(0);
    for (const cmd of ['connect', 'uri', 'env', 'exec', 'list', 'revoke', 'extend', 'reap', 'sessions', 'doctor', 'init', 'audit', 'admin', 'policy']) {
      expect(help.stdout).toMatch(new RegExp(`^  ${cmd}\\b`, 'm'));
    }
    expect(jit(['--version']).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    expect(jit([]).code).toBe(2);
    const unknown = jit(['frob']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^error: unknown command 'frob'/m);
  });

  it('without any policy file: exit 2 naming where it looked and how to make one', () => {
    const r = jit(['uri', 'prod-db', '--role', 'readonly']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: no policy file found/m);
    expect(r.stderr).toMatch(/^hint: create one with 'jit init'/m);
    expect(r.stdout).toBe('');
  });

  it('init writes a starter policy that passes policy check, and refuses to overwrite it', async () => {
    expect(jit(['init']).code).toBe(0);
    expect(await readFile(join(dir, 'jit.yaml'), 'utf8')).toMatch(/^version: 1$/m);
    const check = jit(['policy', 'check']);
    expect(check.code).toBe(0);
    expect(check.stdout).toMatch(/jit\.yaml: ok \(1 database\(s\), \d+ role\(s\)\)/);
    const again = jit(['init']);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already exists/);
    expect(jit(['init', '--force']).code).toBe(0);
  });

  it('the policy is found through $JIT_POLICY and --policy, in that order of strength', () => {
    const viaEnv = jit(['policy', 'check', '--json'], { JIT_POLICY: join(dir, 'missing.yaml') });
    expect(viaEnv.code).toBe(2);
    expect(viaEnv.stderr).toMatch(/missing\.yaml/);
    const viaFlag = jit(['policy', 'check', '--policy', join(dir, 'jit.yaml')], { JIT_POLICY: join(dir, 'missing.yaml') });
    expect(viaFlag.code).toBe(0);
  });

  it('a malformed --since is a usage error, with no stack', () => {
    const r = jit(['audit', '--since', '-5m']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: --since "-5m" is not a duration/m);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('an unexpected failure is one line and a hint; the stack only with --debug', async () => {
    const { writeFile } = await import('node:fs/promises');
    const notADir = join(dir, 'state-file');
    await writeFile(notADir, '');
    // Below a regular file: lstat fails with ENOTDIR. (A JIT_HOME that is itself a file is a clean
    // "refusing to use …: not a directory" error.)
    const r = jit(['list'], { JIT_HOME: join(notADir, 'sub') });
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(2);
    expect(r.stderr).toMatch(/^error: ENOTDIR/m);
    expect(r.stderr).toMatch(/^hint: this is a bug in jit; run again with --debug/m);
    const d = jit(['list', '--debug'], { JIT_HOME: join(notADir, 'sub') });
    const clean = jit(['list'], { JIT_HOME: notADir });
    expect(clean.code).toBe(1);
    expect(clean.stderr).toMatch(/^error: refusing to use .*state-file: not a directory$/m);
    expect(d.stderr).toMatch(/\n\s+at /);
  });
});
