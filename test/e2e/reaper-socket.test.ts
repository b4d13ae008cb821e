import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:net';
import { chmodSync, chownSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join, dirname } from 'node:path';
import { usePostgres } from '../helpers/servers.js';
import { JIT_BIN, makeWorld, stopReaper, type JitWorld, type RunResult } from '../helpers/jit-cli.js';
import { whenGone } from './support.js';
import { reaperSocketPath } from '../../src/reaper/protocol.js';

// A $JIT_HOME too deep for a unix socket path puts the reaper's socket in a private directory,
// and jit never hands a credential to a socket another user owns.

const pg = usePostgres(15);
let w: JitWorld;
let deepHome: string;

beforeAll(async () => {
  w = await makeWorld(pg);
  deepHome = join(w.dir, 'd'.repeat(60), 'e'.repeat(40), 'state');
  mkdirSync(dirname(deepHome), { recursive: true });
});
afterAll(async () => {
  await stopReaper(deepHome);
  await w?.cleanup();
});

describe('reaper socket', () => {
  it('falls back to a private 0700 directory of this user when $JIT_HOME is too deep', async () => {
    const path = reaperSocketPath(deepHome);
    expect(path.startsWith(deepHome)).toBe(false);
    const r = await w.run(['uri', 'testdb', '--role', 'readonly', '--ttl', '1m'], { env: { JIT_HOME: deepHome } });
    expect(r.code).toBe(0);
    expect(r.stderr).not.toMatch(/warning/);
    const dir = lstatSync(dirname(path));
    expect(dir.isDirectory()).toBe(true);
    expect(dir.mode & 0o777).toBe(0o700);
    expect(lstatSync(path).isSocket()).toBe(true);
    expect(lstatSync(path).mode & 0o077).toBe(0);
    // Its own login only: `revoke --all` would revoke those of the files running beside this one.
    expect((await w.run(['revoke', new URL(r.stdout.trim()).username], { env: { JIT_HOME: deepHome } })).code).toBe(0);
    await stopReaper(deepHome);
  });

  it('never sends the admin credential to a socket owned by another user', async () => {
    const path = reaperSocketPath(deepHome);
    let received = '';
    const fake: Server = createServer((s) => {
      s.on('data', (d) => (received += d.toString()));
      s.on('error', () => {});
      s.end('{"ok":true,"pid":1}\n');
    });
    await new Promise<void>((r) => fake.listen(path, () => r()));
    let r: RunResult | undefined;
    try {
      chownSync(path, 65534, 65534); // nobody: as root in the tests, we can hand it away
      r = await w.run(['uri', 'testdb', '--role', 'readonly', '--ttl', '1m'], { env: { JIT_HOME: deepHome } });
      expect(r.code).toBe(0);
      expect(received).not.toContain(pg.adminPassword);
      expect(received).toBe('');
      expect(r.stderr).toMatch(/warning: the reaper did not start/);
    } finally {
      await new Promise<void>((r) => fake.close(() => r()));
      if (r?.code === 0) await w.run(['revoke', new URL(r.stdout.trim()).username], { env: { JIT_HOME: deepHome } });
    }
  });

  it('starts and revokes on expiry when another user pre-created /tmp/jit-<uid>', async () => {
    // In a private mount namespace, another user's directory is mounted over /tmp/jit-<uid>:
    // the real one, which other runs on this machine use, is left alone, and the checkout (which
    // may itself live under /tmp) stays reachable.
    const uid = process.getuid!();
    const squat = mkdtempSync('/var/tmp/jit-squat-');
    chmodSync(squat, 0o755);
    chownSync(squat, 65534, 65534);
    const mountPoint = `/tmp/jit-${uid}`;
    mkdirSync(mountPoint, { recursive: true, mode: 0o700 });
    const top = mkdtempSync(`/tmp/${'s'.repeat(60)}`);
    const home = join(top, 't'.repeat(40), 'state');
    let recorded = '';
    try {
      const script = 'mount --bind "$1" "$2" && exec "$3" "$4" uri testdb --role short --ttl 5s --json';
      const out = execFileSync('unshare', ['-m', 'sh', '-c', script, 'sh', squat, mountPoint, process.execPath, JIT_BIN], {
        env: { ...w.env, JIT_HOME: home },
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const lease = JSON.parse(out) as { user: string; expires_at: string };
      // the squatted directory was not used; the recorded private one was
      recorded = readFileSync(join(home, 'reaper-socket-dir'), 'utf8').trim();
      expect(recorded).not.toBe(mountPoint);
      const st = lstatSync(recorded);
      expect(st.uid).toBe(uid);
      expect(st.mode & 0o777).toBe(0o700);
      expect(await whenGone(pg, lease.user, Date.parse(lease.expires_at) + 20_000)).not.toBeNull();
    } finally {
      await stopReaper(home);
      rmSync(squat, { recursive: true, force: true });
      rmSync(top, { recursive: true, force: true });
      if (recorded.startsWith('/tmp/jit-')) rmSync(recorded, { recursive: true, force: true });
    }
  }, 60_000);
});
