import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PgServer } from '../helpers/pg-server.js';
import { usePostgres } from '../helpers/servers.js';
import { JIT_BIN, jitRoles, makeWorld, roleExists, waitFor, type JitWorld } from '../helpers/jit-cli.js';
import { startInTmux, type Term } from '../helpers/tmux.js';

let pg: PgServer;
let w: JitWorld;
const terms: Term[] = [];

/** The scope's server and a world on it for the tests below. */
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

function term(name: string, args: string, color = false): Term {
  const env: NodeJS.ProcessEnv = { ...w.env, TERM: 'xterm-256color', PAGER: 'cat' };
  if (color) delete env.NO_COLOR;
  const t = startInTmux(name, w.dir, env, `${process.execPath} ${JIT_BIN} ${args}`);
  terms.push(t);
  return t;
}

describe('in a real terminal', () => {
  onServer(false);

  it('connect: Ctrl-C cancels the running query, not jit; \\q exits 0 and the login is revoked', async () => {
    const t = term('connect', 'connect testdb --role readonly');
    expect(await t.waitFor(new RegExp(`${pg.database}=>`))).toBe(true);
    const [login] = await jitRoles(pg);
    expect(login).toBeDefined();
    t.type('select pg_sleep(30);');
    t.send('Enter');
    // Ctrl-C only once the server runs the query: earlier, psql would just clear its input line.
    const admin = await pg.admin();
    try {
      const running = async () =>
        (await admin.query(`SELECT 1 FROM pg_stat_activity WHERE usename = $1 AND state = 'active' AND query LIKE 'select pg_sleep(30)%'`, [login])).rowCount === 1;
      expect(await waitFor(running, 15_000)).toBe(true);
    } finally {
      await admin.end();
    }
    t.send('C-c');
    expect(await t.waitFor(/canceling statement due to user request/)).toBe(true);
    t.type('select current_user;');
    t.send('Enter');
    expect(await t.waitFor(new RegExp(`\\n\\s*${login}\\s*\\n`))).toBe(true);
    expect(await roleExists(pg, login!)).toBe(true);
    t.type('\\q');
    t.send('Enter');
    expect(await t.waitFor(/EXIT=0/)).toBe(true);
    expect(t.screen()).toContain(`revoked ${login}`);
    expect(await roleExists(pg, login!)).toBe(false);
  });

  it('exec in the foreground: Ctrl-C reaches the child once, even with stdin redirected', async () => {
    const child = `n=0; trap 'n=$((n+1))' INT; echo READY; while [ $n -eq 0 ]; do sleep 0.1; done; sleep 1; echo "INTS=$n"`;
    const t = term('exec-int', `exec testdb --role readonly -- sh -c '${child.replace(/'/g, `'\\''`)}' </dev/null`);
    expect(await t.waitFor(/READY/)).toBe(true);
    t.send('C-c');
    expect(await t.waitFor(/INTS=\d/)).toBe(true);
    expect(t.screen()).toContain('INTS=1');
    expect(await t.waitFor(/EXIT=0/)).toBe(true);
    expect(t.screen()).toMatch(new RegExp(`revoked jit_${pg.requester}_`));
  });

  it('asks for a missing role with a select prompt and prints the URI (in colour, as people see it)', async () => {
    const t = term('prompt', 'uri testdb --ttl 1m', true);
    expect(await t.waitFor(/Role on testdb/)).toBe(true);
    expect(t.screen()).toMatch(/readonly/);
    t.send('Down');
    t.send('Enter');
    expect(await t.waitFor(new RegExp(`postgresql://jit_${pg.requester}_[a-z0-9]+:`))).toBe(true);
    expect(await t.waitFor(/EXIT=0/)).toBe(true);
    expect(t.screen()).toMatch(/\(writer\)/);
  });

  it('Ctrl-C at a prompt exits 130 and mints nothing', async () => {
    const before = await jitRoles(pg);
    const t = term('cancel', 'uri testdb');
    expect(await t.waitFor(/Role on testdb/)).toBe(true);
    t.send('C-c');
    expect(await t.waitFor(/EXIT=130/)).toBe(true);
    expect(await jitRoles(pg)).toEqual(before);
  });
});

describe('revoke --all in a real terminal', () => {
  // Exclusive: it revokes every jit login of the server.
  onServer(true);

  it('revoke --all asks for confirmation on a terminal; "n" revokes nothing', async () => {
    const minted = JSON.parse((await w.run(['uri', 'testdb', '--role', 'readonly', '--json'])).stdout);
    const t = term('confirm', 'revoke --all');
    expect(await t.waitFor(/Revoke these \d+ login\(s\)/)).toBe(true);
    expect(t.screen()).toContain(minted.user);
    t.type('n');
    t.send('Enter');
    expect(await t.waitFor(/EXIT=130/)).toBe(true);
    expect(await roleExists(pg, minted.user)).toBe(true);
    const t2 = term('confirm2', 'revoke --all');
    expect(await t2.waitFor(/Revoke these/)).toBe(true);
    t2.type('y');
    t2.send('Enter');
    expect(await t2.waitFor(/EXIT=0/)).toBe(true);
    expect(await waitFor(async () => !(await roleExists(pg, minted.user)), 5000)).toBe(true);
  });
});
