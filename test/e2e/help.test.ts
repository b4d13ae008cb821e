import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { JIT_BIN } from '../helpers/jit-cli.js';
import { removeTestDir } from '../helpers/processes.js';

// Help screens people can learn from, and usage errors that say what to type instead. No server:
// every case here fails before a policy is read.

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jit-help-'));
});
afterAll(async () => {
  await removeTestDir(dir);
});

function jit(args: string[]) {
  const r = spawnSync(process.execPath, [JIT_BIN, ...args], {
    cwd: dir,
    env: { PATH: process.env.PATH, HOME: dir, JIT_HOME: join(dir, 'state'), XDG_CONFIG_HOME: join(dir, 'config'), NO_COLOR: '1' },
    encoding: 'utf8',
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const COMMANDS = [
  'connect', 'uri', 'env', 'exec', 'ls', 'list', 'extend',
  'revoke', 'sessions', 'reap', 'audit',
  'init', 'doctor', 'admin', 'admin set', 'admin test', 'admin forget', 'admin bootstrap', 'policy', 'policy check', 'completion',
];

/** The examples of a help screen: the `$ jit …` lines after "Examples:", each with its comment. */
function examples(help: string): string[] {
  const section = help.split(/^Examples:$/m)[1] ?? '';
  return section.split('\n').filter((l) => l.startsWith('  $ ')).map((l) => l.slice(4));
}

describe('help', () => {
  it.each(COMMANDS)('jit %s --help: a one-line purpose and examples of the command itself', (cmd) => {
    const r = jit([...cmd.split(' '), '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^Usage: jit ${cmd}(\\|databases)? `, 'm'));
    const [, purpose] = r.stdout.split('\n\n');
    expect(purpose).toMatch(/^\S.*$/);
    const lines = examples(r.stdout);
    expect(lines.length).toBeGreaterThanOrEqual(cmd === 'admin forget' || cmd === 'policy' ? 1 : 2);
    for (const line of lines) expect(line).toContain(`jit ${cmd}`);
    expect(r.stdout).toMatch(/^Examples:\n {2}# \S/m);
  });

  it('jit --help groups the commands into access, on-call and setup, and shows examples', () => {
    const r = jit(['--help']);
    expect(r.code).toBe(0);
    const group = (name: string) => (r.stdout.split(new RegExp(`^${name}:$`, 'm'))[1] ?? '').split('\n\n')[0]!;
    const names = (text: string) => [...text.matchAll(/^ {2}([a-z]+)/gm)].map((m) => m[1]);
    expect(names(group('Access'))).toEqual(['connect', 'uri', 'env', 'exec', 'ls', 'list', 'extend']);
    expect(names(group('On-call'))).toEqual(['revoke', 'sessions', 'reap', 'audit']);
    expect(names(group('Setup'))).toEqual(['init', 'doctor', 'admin', 'policy', 'completion']);
    expect(r.stdout).not.toMatch(/^Commands:$/m);
    expect(examples(r.stdout)).toContain('jit connect prod-db --role readonly');
  });
});

describe('usage errors: one error line and one hint naming the fix, exit 2', () => {
  const lines = (s: string) => s.split('\n').filter(Boolean);

  it('an unknown command suggests the nearest one', () => {
    const r = jit(['lsit']);
    expect(r.code).toBe(2);
    expect(lines(r.stderr)).toEqual(["error: unknown command 'lsit'", "hint: did you mean 'list'?"]);
    expect(r.stdout).toBe('');
    expect(lines(jit(['admin', 'sett', 'prod-db']).stderr)).toEqual(["error: unknown command 'sett'", "hint: did you mean 'set'?"]);
  });

  it('an unknown option suggests the nearest one', () => {
    const r = jit(['uri', 'testdb', '--rol', 'readonly']);
    expect(r.code).toBe(2);
    expect(lines(r.stderr)).toEqual(["error: unknown option '--rol'", "hint: did you mean '--role'?"]);
  });

  it('other usage errors point at the command help', () => {
    const r = jit(['env', 'testdb', '--format', 'xml']);
    expect(r.code).toBe(2);
    expect(lines(r.stderr)).toEqual([
      "error: option '--format <format>' argument 'xml' is invalid. Allowed choices are sh, fish, dotenv, json",
      "hint: see 'jit env --help'",
    ]);
  });

  it('a role given without --role: the hint is the command with --role', () => {
    const r = jit(['uri', 'testdb', 'readonly']);
    expect(r.code).toBe(2);
    expect(lines(r.stderr)).toEqual(['error: unexpected argument "readonly"', 'hint: a role goes after --role: jit uri testdb --role readonly']);
    expect(lines(jit(['env', '--ttl', '5m', 'testdb', 'readonly']).stderr)[1]).toBe('hint: a role goes after --role: jit env --ttl 5m testdb --role readonly');
    const c = jit(['connect', 'testdb', 'readonly']);
    expect(c.code).toBe(2);
    expect(lines(c.stderr)).toEqual(['error: unexpected argument "readonly"', 'hint: a role goes after --role: jit connect testdb --role readonly']);
  });

  it("exec without --: the hint shows where -- goes", () => {
    const r = jit(['exec', 'testdb', '--role', 'r', 'psql', '-c', 'select 1']);
    expect(r.code).toBe(2);
    expect(lines(r.stderr)).toEqual(["error: unknown option '-c'", "hint: the command's own options go after --: jit exec testdb --role r -- psql -c 'select 1'"]);
  });

  it("connect without --: psql's arguments go after it", () => {
    const r = jit(['connect', 'testdb', '--role', 'r', '-c', 'select 1']);
    expect(r.code).toBe(2);
    expect(lines(r.stderr)).toEqual(["error: unknown option '-c'", "hint: psql's (or mariadb's) arguments go after --: jit connect testdb --role r -- -c 'select 1'"]);
  });
});
