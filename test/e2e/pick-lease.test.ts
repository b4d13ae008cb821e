import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usePostgres } from '../helpers/servers.js';
import { JIT_BIN, makeWorld, roleExists, type JitWorld } from '../helpers/jit-cli.js';
import { startInTmux, type Term } from '../helpers/tmux.js';

// `jit revoke` and `jit extend` without a lease: a picker of this machine's live leases on a
// terminal, the usage error without one.

const pg = usePostgres(15);
let w: JitWorld;
let t: Term | undefined;

beforeAll(async () => {
  w = await makeWorld(pg);
});
afterAll(async () => {
  t?.kill();
  await w?.cleanup();
});

const mint = async () => JSON.parse((await w.run(['uri', 'testdb', '--role', 'readonly', '--ttl', '10m', '--json'])).stdout) as { id: string; user: string };

describe('a lease picker', () => {
  it('without a terminal, revoke and extend still ask for the lease (exit 2)', async () => {
    const r = await w.run(['revoke']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: missing lease id or login$/m);
    const e = await w.run(['extend', '--ttl', '5m']);
    expect(e.code).toBe(2);
    expect(e.stderr).toMatch(/^error: missing lease id$/m);
  });

  it('on a terminal, extend then revoke the lease chosen from the live ones', async () => {
    const a = await mint();
    const b = await mint();
    const jit = `${process.execPath} ${JIT_BIN}`;
    t = startInTmux('pick', w.dir, { ...w.env, TERM: 'xterm-256color' }, `${jit} extend --ttl 20m; echo "EXTEND=$?"; ${jit} revoke; echo "REVOKE=$?"; sleep 30`);
    expect(await t.waitFor(/Lease to extend/)).toBe(true);
    expect(await t.waitFor(new RegExp(b.id))).toBe(true);
    expect(t.screen()).toContain(a.id);
    // The first choice is the first lease listed; move down to the other one when needed.
    const first = t.screen().indexOf(a.id) < t.screen().indexOf(b.id) ? a : b;
    const second = first === a ? b : a;
    t.send('Down');
    t.send('Enter');
    expect(await t.waitFor(/EXTEND=\d+/)).toBe(true);
    expect(t.screen()).toContain('EXTEND=0');
    expect(t.screen()).toMatch(new RegExp(`lease ${second.id} \\(${second.user}\\) now lasts until (\\d{4}-\\d\\d-\\d\\d )?\\d\\d:\\d\\d:\\d\\d \\(in 20m00s\\)`));
    expect(await t.waitFor(/Lease to revoke/)).toBe(true);
    t.send('Enter');
    expect(await t.waitFor(/REVOKE=\d+/)).toBe(true);
    expect(t.screen()).toContain('REVOKE=0');
    expect(await roleExists(pg, first.user)).toBe(false);
    expect(await roleExists(pg, second.user)).toBe(true);
    expect((await w.run(['revoke', second.id])).code).toBe(0);
  });
});
