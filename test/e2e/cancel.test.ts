import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Client } from 'pg';
import type { PgServer } from '../helpers/pg-server.js';
import { usePostgres } from '../helpers/servers.js';
import { JIT_BIN, jitRoles, leaseFiles, makeWorld, testPolicy, waitFor, type JitWorld } from '../helpers/jit-cli.js';
import { startInTmux, type Term } from '../helpers/tmux.js';
import { MINT_LOCK_KEY } from '../../src/engines/postgres/postgres-sql.js';

// Ctrl-C while a mint is under way (the spinner shows) cancels it: exit 130, no URI, nothing
// left running, on the server or in the state directory; the audit trail says it was cancelled.

const pg: PgServer = usePostgres(15);
const worlds: JitWorld[] = [];
const terms: Term[] = [];

afterAll(async () => {
  terms.splice(0).forEach((t) => t.kill());
  await Promise.all(worlds.splice(0).map((w) => w.cleanup()));
});

/** `jit ARGS` in a real colour terminal, so the spinner shows as people see it. */
function term(w: JitWorld, name: string, args: string): Term {
  const env: NodeJS.ProcessEnv = { ...w.env, TERM: 'xterm-256color' };
  delete env.NO_COLOR;
  const t = startInTmux(name, w.dir, env, `${process.execPath} ${JIT_BIN} ${args}`);
  terms.push(t);
  return t;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function auditOf(w: JitWorld): Promise<Array<{ event: string; error?: string; lease?: string; cause?: string }>> {
  const text = await readFile(join(w.home, 'audit.jsonl'), 'utf8').catch(() => '');
  return text
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

describe('Ctrl-C during a mint', () => {
  let plain: JitWorld;
  beforeAll(async () => {
    plain = await makeWorld(pg);
    worlds.push(plain);
  });

  it('while a slow `command:` admin password source runs: exit 130, no URI, the command ended, nothing left', async () => {
    const dir = plain.dir;
    const pids = join(dir, 'secret-pids');
    // The shell records its pid and the pid of what it runs, then takes its time.
    await writeFile(join(dir, 'slow-secret.sh'), `echo $$ >> ${pids}\nsleep 30 &\necho $! >> ${pids}\nwait $!\nprintf '%s\\n' "$JIT_TEST_ADMIN_PW"\n`);
    const policy = testPolicy(pg).replace('password: env:JIT_TEST_ADMIN_PW', `password: "command:sh ${join(dir, 'slow-secret.sh')}"`);
    const w = await makeWorld(pg, { policy });
    worlds.push(w);
    await writeFile(pids, '');

    const t = term(w, 'cancel-command', 'uri testdb --role readonly');
    expect(await t.waitFor(/Creating a temporary readonly login on testdb/)).toBe(true);
    const twoPids = async () => (await readFile(pids, 'utf8')).trim().split('\n').filter(Boolean).length === 2;
    expect(await waitFor(twoPids, 15_000)).toBe(true);
    const [shPid, sleepPid] = (await readFile(pids, 'utf8')).trim().split('\n').map(Number) as [number, number];
    expect(alive(shPid) && alive(sleepPid)).toBe(true);

    t.send('C-c');
    expect(await t.waitFor(/EXIT=\d+/)).toBe(true);
    const screen = t.screen();
    expect(screen).toContain('EXIT=130');
    expect(screen).toMatch(/error: cancelled/);
    expect(screen).not.toContain('postgresql://');
    // Ended with jit, not orphaned (a zombie is reaped by whoever inherits it: wait for that).
    expect(await waitFor(() => !alive(shPid) && !alive(sleepPid), 10_000)).toBe(true);
    expect(await jitRoles(pg)).toEqual([]);
    expect(await leaseFiles(w.home)).toEqual([]);
    expect((await auditOf(w)).filter((r) => r.event === 'mint-failed').map((r) => r.error)).toEqual(['cancelled (SIGINT)']);
  });

  it('while the server waits for a lock held elsewhere: exit 130 at once, and the login is never created', async () => {
    const locker: Client = await pg.admin();
    let held = true;
    try {
      // The mint's first build of the role's group role takes this lock; a session-level hold makes it wait.
      await locker.query(`SELECT pg_advisory_lock(${MINT_LOCK_KEY})`);
      const t = term(plain, 'cancel-lock', 'uri testdb --role readonly');
      // By pg_locks: the mint's text (pg_stat_activity.query) is cut at track_activity_query_size
      // before its group role's lock call.
      const waiters = `SELECT 1 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND NOT l.granted AND a.datname = current_database()`;
      const waiting = async () => (await locker.query(waiters)).rowCount! > 0;
      expect(await waitFor(waiting, 15_000)).toBe(true);
      expect(await t.waitFor(/Creating a temporary readonly login on testdb/)).toBe(true);

      t.send('C-c');
      // The lock is still held: jit does not wait for it.
      expect(await t.waitFor(/EXIT=\d+/)).toBe(true);
      const screen = t.screen();
      expect(screen).toContain('EXIT=130');
      expect(screen).toMatch(/error: cancelled/);
      expect(screen).not.toContain('postgresql://');
      expect(await waiting()).toBe(false);
      expect(await leaseFiles(plain.home)).toEqual([]);
      const failed = (await auditOf(plain)).filter((r) => r.event === 'mint-failed');
      expect(failed.map((r) => r.error)).toEqual(['cancelled (SIGINT)']);
      expect(failed[0]!.lease).toMatch(/\w+/);

      // Once the lock is free, nothing that was waiting for it creates the login after all.
      await locker.query(`SELECT pg_advisory_unlock(${MINT_LOCK_KEY})`);
      held = false;
      const settled = async () =>
        (await locker.query(`SELECT 1 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND a.datname = current_database() AND a.pid <> pg_backend_pid()`))
          .rowCount === 0;
      expect(await waitFor(settled, 10_000)).toBe(true);
      expect(await jitRoles(pg)).toEqual([]);
    } finally {
      if (held) await locker.query(`SELECT pg_advisory_unlock(${MINT_LOCK_KEY})`).catch(() => {});
      await locker.end();
    }
  });
});
