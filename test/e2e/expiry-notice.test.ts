import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usePostgres } from '../helpers/servers.js';
import { makeWorld, type JitWorld } from '../helpers/jit-cli.js';

// Expiry in the middle of `jit exec` (or `connect`) is not silent: the login's holder is told
// before it comes, with the command that extends it, and when it came.

const pg = usePostgres(15);
let w: JitWorld;

beforeAll(async () => {
  w = await makeWorld(pg);
});
afterAll(async () => {
  await w?.cleanup();
});

describe('jit exec across its lease expiry', () => {
  it('warns 10 s before, naming jit extend, then says the lease expired; the child still runs to its end', async () => {
    const r = await w.run(['exec', 'testdb', '--role', 'readonly', '--ttl', '25s', '--', 'sh', '-c', 'sleep 29; echo child-done'], { timeoutMs: 55_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('child-done');
    const id = /^lease (\w+):/m.exec(r.stderr)![1]!;
    const warn = new RegExp(`^lease ${id} expires in (\\d+)s; to keep working: jit extend ${id} --ttl 15m$`, 'm').exec(r.stderr);
    expect(warn, r.stderr).not.toBeNull();
    expect(Number(warn![1])).toBeLessThanOrEqual(10);
    expect(r.stderr).toMatch(new RegExp(`^lease ${id} expired: jit_\\w+ is revoked and its sessions end; mint a new login to go on$`, 'm'));
    // One warning of each kind, in order.
    expect(r.stderr.indexOf(warn![0])).toBeLessThan(r.stderr.indexOf(`lease ${id} expired`));
    expect(r.stderr.match(/expires in/g)).toHaveLength(1);
  });
});
