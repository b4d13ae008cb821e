import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { JIT_BIN } from '../helpers/jit-cli.js';
import { removeTestDir } from '../helpers/processes.js';

// `jit ls` reads the policy only: its servers below do not exist, and nothing may try them.

const POLICY = `version: 1
databases:
  prod-db:
    engine: postgres
    host: db.internal
    port: 5432
    database: app
    admin:
      user: jit_admin
      password: command:false
    roles:
      readonly:
        ttl: 15m
        max_ttl: 1h
        grants:
          - privileges: [SELECT]
            tables: [public.orders, public.customers]
      support:
        max_ttl: 30m
        require_reason: true
        grants:
          - privileges: [SELECT, UPDATE]
            tables: [public.tickets]
          - privileges: [SELECT]
            schema: reporting
  reports:
    engine: mysql
    host: "evil\\u202e\\u200b.example"
    port: 3306
    database: shop
    admin:
      user: jit_admin
      password: env:NOT_SET_ANYWHERE
    roles:
      analyst:
        ttl: 1.5h
        max_ttl: 2H
        member_of: [analytics_ro]
`;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jit-ls-'));
  await writeFile(join(dir, 'jit.yaml'), POLICY);
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

describe('jit ls', () => {
  it('a table of databases, one row per role: engine, host, TTLs, reason, grants', () => {
    const r = jit(['ls']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^DATABASE\s+ENGINE\s+HOST\s+ROLE\s+TTL\s+MAX TTL\s+REASON\s+GRANTS$/);
    expect(lines).toHaveLength(4);
    expect(lines[1]).toMatch(/^prod-db\s+postgres\s+db\.internal:5432\/app\s+readonly\s+15m\s+1h\s+-\s+SELECT on public\.orders, public\.customers$/);
    expect(lines[2]).toMatch(/^prod-db\s+postgres\s+db\.internal:5432\/app\s+support\s+15m\s+30m\s+required\s+SELECT, UPDATE on public\.tickets; SELECT on schema reporting$/);
    expect(lines[3]).toMatch(/^reports\s+mysql\s+.*:3306\/shop\s+analyst\s+1h30m\s+2h\s+-\s+member of analytics_ro$/);
    // Columns line up: every row's ROLE starts where the header's does.
    const col = lines[0]!.indexOf('ROLE');
    for (const l of lines.slice(1)) expect(l.slice(col)).toMatch(/^(readonly|support|analyst) /);
  });

  it("the policy's text never reaches the terminal raw: bidi and zero-width characters are shown escaped", () => {
    const r = jit(['ls', 'reports']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('evil\\u202e\\u200b.example:3306/shop');
    expect(r.stdout).not.toMatch(/[\u200b\u202e]/);
    const j = jit(['ls', 'reports', '--json']);
    expect(j.stdout).not.toMatch(/[\u200b\u202e]/);
    expect(JSON.parse(j.stdout)[0].host).toBe('evil\u202e\u200b.example');
  });

  it('DB limits it to one database; `databases` is the same command', () => {
    const one = jit(['ls', 'prod-db']);
    expect(one.code).toBe(0);
    expect(one.stdout).not.toMatch(/reports/);
    expect(one.stdout.trimEnd().split('\n')).toHaveLength(3);
    expect(jit(['databases', 'prod-db']).stdout).toBe(one.stdout);
  });

  it('an unknown database is a usage error naming the known ones', () => {
    const r = jit(['ls', 'prod']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: database "prod" is not in .*jit\.yaml$/m);
    expect(r.stderr).toMatch(/^hint: known: prod-db, reports$/m);
    expect(r.stdout).toBe('');
  });

  it('--json for scripts: names, engine, host, durations as text and seconds, grants, reason', () => {
    const r = jit(['ls', '--json']);
    expect(r.code).toBe(0);
    const dbs = JSON.parse(r.stdout);
    expect(dbs.map((d: { name: string }) => d.name)).toEqual(['prod-db', 'reports']);
    expect(dbs[0]).toMatchObject({ engine: 'postgres', host: 'db.internal', port: 5432, database: 'app', tls: 'require' });
    expect(dbs[0].roles[1]).toEqual({
      name: 'support',
      ttl: '15m',
      max_ttl: '30m',
      ttl_seconds: 900,
      max_ttl_seconds: 1800,
      require_reason: true,
      grants: [
        { privileges: ['SELECT', 'UPDATE'], tables: ['public.tickets'] },
        { privileges: ['SELECT'], schema: 'reporting' },
      ],
      member_of: [],
    });
    expect(dbs[1].roles[0]).toMatchObject({ name: 'analyst', ttl_seconds: 5400, max_ttl_seconds: 7200, grants: [], member_of: ['analytics_ro'] });
  });

  it('asks no server, reads no admin credential, starts no reaper', () => {
    // The admin sources would fail (command:false, an unset variable), and the hosts do not resolve.
    const r = jit(['ls']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(existsSync(join(dir, 'state', 'reaper.sock'))).toBe(false);
  });

  it("README's `jit ls` output is what jit prints for README's own sample policies", async () => {
    const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
    const yaml = [...readme.matchAll(/^```yaml\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
    const postgres = yaml.find((y) => y.startsWith('version: 1\ndatabases:\n  prod-db:'))!;
    const mysql = yaml.find((y) => y.startsWith('databases:\n  shop:'))!;
    expect(postgres && mysql).toBeTruthy();
    await writeFile(join(dir, 'readme.yaml'), postgres + mysql.slice('databases:\n'.length));
    const shown = readme.match(/^\$ jit ls\n([\s\S]*?)\n\n/m)![1];
    const r = jit(['ls', '--policy', join(dir, 'readme.yaml')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trimEnd()).toBe(shown);
  });

  it('is listed in --help', () => {
    expect(jit(['--help']).stdout).toMatch(/^  ls\|databases \[database\]\s+what the policy offers/m);
  });
});
