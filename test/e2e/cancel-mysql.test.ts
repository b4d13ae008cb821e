import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type mysql from 'mysql2/promise';
import { useMariadb } from '../helpers/servers.js';
import { JIT_BIN, leaseFiles, makeWorld, waitFor, type JitWorld } from '../helpers/jit-cli.js';
import { jitAccounts, mysqlPolicy } from '../helpers/mysql-cli.js';
import { startInTmux, type Term } from '../helpers/tmux.js';

// Ctrl-C while a MariaDB mint waits on the server (a lock on the ledger held elsewhere holds up
// its INSERT): the waiting statement is interrupted (KILL QUERY), jit exits 130 and hands
// nothing out. The ledger is server-wide, so the scope has the server to itself.

const m = useMariadb({ exclusive: true });
let w: JitWorld;
let t: Term | undefined;
let locker: mysql.Connection | undefined;

beforeAll(async () => {
  w = await makeWorld(m, { policy: mysqlPolicy(m) });
});
afterAll(async () => {
  t?.kill();
  await locker?.end().catch(() => locker?.destroy());
  await w?.cleanup();
});

describe('Ctrl-C during a MariaDB mint held up on the server', () => {
  it('interrupts the statement at once: exit 130, no URI, no account, no lease, while the lock is still held', async () => {
    // A first mint creates the ledger.
    const first = await w.run(['uri', 'testdb', '--role', 'readonly']);
    expect(first.code, first.stderr).toBe(0);
    expect((await w.run(['revoke', '--all', '--yes'])).code).toBe(0);
    locker = await m.admin();
    await locker.query('LOCK TABLES jit.leases WRITE');
    const env: NodeJS.ProcessEnv = { ...w.env, TERM: 'xterm-256color' };
    delete env.NO_COLOR;
    t = startInTmux('cancel-mysql', w.dir, env, `${process.execPath} ${JIT_BIN} uri testdb --role readonly; echo "EXIT=$?"; sleep 30`);
    expect(await t.waitFor(/Creating a temporary readonly login on testdb/)).toBe(true);
    // Wait until the mint is really waiting on the server: its first statement reading the ledger
    // is the group role's check (who holds the group: the admin, or logins with a ledger row).
    const waiting = async () => {
      const [rows] = await locker!.query("SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE INFO LIKE '%`jit`.`leases`%' AND INFO NOT LIKE '%PROCESSLIST%' AND STATE LIKE '%lock%'");
      return Number((rows as Array<{ n: number }>)[0]!.n) > 0;
    };
    expect(await waitFor(waiting, 20_000)).toBe(true);
    t.send('C-c');
    expect(await t.waitFor(/EXIT=\d+/, 20_000)).toBe(true);
    const screen = t.screen();
    expect(screen).toContain('EXIT=130');
    expect(screen).toMatch(/error: cancelled; nothing was handed out/);
    expect(screen).not.toContain('mysql://');
    // Still locked: the mint did not wait for the lock to go, it was interrupted.
    expect(await waiting()).toBe(false);
    expect(await jitAccounts(m)).toEqual([]);
    expect(await leaseFiles(w.home)).toEqual([]);
    await locker.query('UNLOCK TABLES');
  });
});
