import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import type { PgServer } from '../helpers/pg-server.js';
import { usePostgres } from '../helpers/servers.js';
import { JIT_BIN, makeWorld, roleExists, type JitWorld } from '../helpers/jit-cli.js';
import { startInTmux, type Term } from '../helpers/tmux.js';

// Small things found when jit was tried, that need a server to show.

let pg: PgServer;
let w: JitWorld;
const terms: Term[] = [];

function onServer(exclusive: boolean): void {
  const scope = usePostgres(15, { exclusive });
  beforeAll(async () => {
    pg = scope;
    w = await makeWorld(pg);
  });
  afterAll(async () => {
    terms.splice(0).forEach((t) => t.kill());
    await w?.cleanup();
  });
}

const hasFish = spawnSync('fish', ['--version']).status === 0;

describe('with a server', () => {
  onServer(false);

  // Under CI a missing fish is a failure, like a missing server.
  it.skipIf(!hasFish && !process.env.CI)('env --format fish: `| source` in a real fish gives psql the login', async () => {
    const script = `${process.execPath} ${JIT_BIN} env testdb --role readonly --format fish | source; and psql -XtAc 'select current_user'; and echo "lease=$JIT_LEASE_ID"`;
    const r = spawnSync('fish', ['--no-config', '-c', script], { env: w.env, cwd: w.dir, encoding: 'utf8', timeout: 30_000 });
    expect(r.status, r.stderr).toBe(0);
    const [login, lease] = r.stdout.trim().split('\n');
    expect(login).toMatch(new RegExp(`^jit_${pg.requester}_`));
    expect(lease).toMatch(/^lease=\w{10}$/);
    expect(await roleExists(pg, login!)).toBe(true);
    expect((await w.run(['revoke', lease!.slice('lease='.length)])).code).toBe(0);
  });

  it('--ttl 1H and 0.75h mint a login of that lifetime, as 45m does', async () => {
    for (const [ttl, seconds] of [['1H', 3600], ['0.75h', 2700], ['45m', 2700]] as const) {
      const r = await w.run(['uri', 'testdb', '--role', 'readonly', '--ttl', ttl, '--json']);
      expect(r.code, r.stderr).toBe(0);
      const { id } = JSON.parse(r.stdout);
      const listed = JSON.parse((await w.run(['list', '--json'])).stdout) as Array<{ id: string; created_at: string; expires_at: string }>;
      const lease = listed.find((l) => l.id === id)!;
      expect((Date.parse(lease.expires_at) - Date.parse(lease.created_at)) / 1000, ttl).toBe(seconds);
      expect((await w.run(['revoke', id])).code).toBe(0);
    }
  });
});

describe('revoke --all answered No', () => {
  // Exclusive: revoke --all lists every jit login of the server.
  onServer(true);

  it('is not an error: no `error:` line, the list in columns, exit 130, nothing revoked', async () => {
    const a = JSON.parse((await w.run(['uri', 'testdb', '--role', 'readonly', '--json'])).stdout);
    const b = JSON.parse((await w.run(['uri', 'testdb', '--role', 'writer', '--json'])).stdout);
    const t = startInTmux('decline', w.dir, { ...w.env, TERM: 'xterm-256color' }, `${process.execPath} ${JIT_BIN} revoke --all`);
    terms.push(t);
    expect(await t.waitFor(/Revoke these 2 login\(s\)/)).toBe(true);
    const lines = t.screen().split('\n');
    const header = lines.find((l) => /^ {2}DATABASE\s+LOGIN\s+REQUESTER\s+ROLE$/.test(l));
    expect(header, t.screen()).toBeDefined();
    const rowOf = (user: string) => lines.find((l) => l.includes(user))!;
    for (const [m, role] of [[a, 'readonly'], [b, 'writer']]) {
      expect(rowOf(m.user)).toMatch(new RegExp(`^ {2}testdb\\s+${m.user}\\s+${pg.requester}@\\S+\\s+${role}$`));
      expect(rowOf(m.user).indexOf(role)).toBe(header!.indexOf('ROLE'));
    }
    t.type('n');
    t.send('Enter');
    expect(await t.waitFor(/EXIT=\d+/)).toBe(true);
    expect(t.screen()).toMatch(/nothing was revoked\s*\nEXIT=130/);
    expect(t.screen()).not.toMatch(/error:/);
    expect(await roleExists(pg, a.user)).toBe(true);
    expect(await roleExists(pg, b.user)).toBe(true);
    expect((await w.run(['revoke', '--all', '--yes'])).code).toBe(0);
  });
});
