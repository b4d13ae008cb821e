/**
 * No session past expiry while the local machinery is attacked or broken: a child asking the
 * reaper to stop, a reaper killed or wedged, a lease file truncated under it, and what the
 * reaper's environment gives away.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { rename, rm, unlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type pg from 'pg';
import { usePostgres } from '../helpers/servers.js';
import { makeWorld, roleExists, waitFor, type JitWorld } from '../helpers/jit-cli.js';
import { ask } from '../../src/reaper/reaper-client.js';
import { reaperSocketPath } from '../../src/reaper/protocol.js';
import { isAlive, mintUri, openSession, reaperPid, sessionAlive } from './support.js';

const server = usePostgres(15);
const worlds: JitWorld[] = [];
const sessions: pg.Client[] = [];
const stopped: number[] = [];

afterAll(async () => {
  for (const pid of stopped) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  for (const s of sessions) await s.end().catch(() => {});
  for (const w of worlds) await w.cleanup().catch(() => {});
});

const world = async () => {
  const w = await makeWorld(server);
  worlds.push(w);
  return w;
};

/** Mint a short lease and hold a session open as its login. */
async function leaseWithSession(w: JitWorld, ttl = '6s') {
  const minted = await mintUri(w, ['--role', 'short', '--ttl', ttl]);
  const session = await openSession(minted.uri);
  sessions.push(session);
  return { minted, session, expiresAt: Date.parse(minted.expires_at) };
}

/** The session is ended and the login dropped within `graceMs` after expiry. */
async function endsAfterExpiry(login: string, session: pg.Client, expiresAt: number, graceMs = 10_000): Promise<boolean> {
  const deadline = expiresAt + graceMs - Date.now();
  return waitFor(async () => !(await sessionAlive(session)) && !(await roleExists(server, login)), Math.max(deadline, 1_000), 250);
}

describe('a `stop` request while a lease is live', () => {
  it('is not honoured: the reaper stays and ends the session at expiry', async () => {
    const w = await world();
    const { minted, session, expiresAt } = await leaseWithSession(w);
    const pid = await reaperPid(w.home);
    expect(pid).not.toBeNull();
    // What a `jit exec` child can do: it shares the user and reaches the socket.
    await ask(w.home, { type: 'stop' }, 1000);
    process.kill(pid!, 'SIGTERM');
    await new Promise((r) => setTimeout(r, 1_500));
    expect(isAlive(pid!)).toBe(true);
    expect(await endsAfterExpiry(minted.user, session, expiresAt)).toBe(true);
    // With nothing left to watch, the stop asked for earlier is honoured.
    expect(await waitFor(() => !isAlive(pid!), 10_000)).toBe(true);
  });
});

describe('a reaper killed with -9', () => {
  it('is restarted by the next jit command even when that command fails (exit 2)', async () => {
    const w = await world();
    const { minted, session, expiresAt } = await leaseWithSession(w);
    const pid = (await reaperPid(w.home))!;
    process.kill(pid, 'SIGKILL');
    expect(await waitFor(() => !isAlive(pid), 2_000)).toBe(true);
    const bad = await w.run(['list', '--no-such-flag']);
    expect(bad.code).toBe(2);
    const again = await reaperPid(w.home);
    expect(again).not.toBeNull();
    expect(again).not.toBe(pid);
    expect(await endsAfterExpiry(minted.user, session, expiresAt)).toBe(true);
  });
});

describe('a wedged reaper (SIGSTOP)', () => {
  it('does not make `jit uri` hang: it is replaced, and the new one revokes at expiry', async () => {
    const w = await world();
    await leaseWithSession(w, '50s');
    const old = (await reaperPid(w.home))!;
    process.kill(old, 'SIGSTOP');
    stopped.push(old);
    const started = Date.now();
    const { minted, session, expiresAt } = await leaseWithSession(w, '8s');
    // Bounded: the hand-off gives up on the stopped reaper and starts another within seconds.
    expect(Date.now() - started).toBeLessThan(20_000);
    const fresh = await reaperPid(w.home);
    expect(fresh).not.toBeNull();
    expect(fresh).not.toBe(old);
    expect(await endsAfterExpiry(minted.user, session, expiresAt)).toBe(true);
    // Woken up, the old one finds its socket taken and leaves.
    process.kill(old, 'SIGCONT');
    expect(await waitFor(() => !isAlive(old), 10_000)).toBe(true);
  });
});

describe('a lease file truncated under a running reaper', () => {
  it('is revoked from the copy the reaper last trusted', async () => {
    const w = await world();
    const { minted, session, expiresAt } = await leaseWithSession(w, '8s');
    // Let the reaper read the good copy first.
    await ask(w.home, { type: 'hello' }, 1000);
    await new Promise((r) => setTimeout(r, 1_000));
    // Replaced (as an editor or a sync tool would, by rename), so the reaper sees it at once.
    const tmp = join(w.home, 'truncated.tmp');
    await writeFile(tmp, '{"id": "', { mode: 0o600 });
    await rename(tmp, join(w.home, 'leases', `${minted.id}.json`));
    expect(await endsAfterExpiry(minted.user, session, expiresAt)).toBe(true);
  });
});

describe('a lease file deleted under a running reaper while its login lives', () => {
  it('is still revoked at expiry: the server says the login exists', async () => {
    const w = await world();
    const { minted, session, expiresAt } = await leaseWithSession(w, '8s');
    await new Promise((r) => setTimeout(r, 1_000));
    // What a leased child (same user) can do to its own lease.
    await rm(join(w.home, 'leases', `${minted.id}.json`));
    expect(await endsAfterExpiry(minted.user, session, expiresAt)).toBe(true);
  });
});

describe("the reaper's environment", () => {
  it('holds neither the env: admin password nor any lease credential', async () => {
    const w = await world();
    const { minted } = await leaseWithSession(w, '30s');
    const pid = (await reaperPid(w.home))!;
    const environ = readFileSync(`/proc/${pid}/environ`, 'latin1');
    expect(environ).toContain(`JIT_HOME=${w.home}`);
    expect(environ).not.toContain(server.adminPassword);
    expect(environ).not.toContain('JIT_TEST_ADMIN_PW');
    expect(environ).not.toContain(minted.password);
    // It still revokes: the credential came over the socket.
    expect((await w.run(['revoke', minted.id])).code).toBe(0);
    expect(await roleExists(server, minted.user)).toBe(false);
  });
});

describe('a reaper lingering after its last lease', () => {
  it('holds no admin secret until the next mint hands one over', async () => {
    const w = await makeWorld(server, { env: { JIT_REAPER_LINGER: '60s' } });
    worlds.push(w);
    const keysHeld = async () => {
      const reply = await ask(w.home, { type: 'hello' }, 1000);
      return reply.ok ? (reply.keys ?? []) : null;
    };
    const first = await mintUri(w, ['--role', 'readonly', '--ttl', '5m']);
    const pid = (await reaperPid(w.home))!;
    expect(await keysHeld()).toEqual(['testdb\u0000env:JIT_TEST_ADMIN_PW']);
    expect((await w.run(['revoke', first.id])).code).toBe(0);
    // The last lease is gone: the credential goes at the reaper's next look, the reaper stays.
    expect(await waitFor(async () => (await keysHeld())?.length === 0, 10_000)).toBe(true);
    expect(await reaperPid(w.home)).toBe(pid);
    // The next mint hands it over again, and the reaper revokes with it at expiry.
    const next = await mintUri(w, ['--role', 'short', '--ttl', '5s']);
    expect(await keysHeld()).toEqual(['testdb\u0000env:JIT_TEST_ADMIN_PW']);
    expect(await reaperPid(w.home)).toBe(pid);
    expect(await waitFor(async () => !(await roleExists(server, next.user)), 15_000, 250)).toBe(true);
  });
});

describe('whoever answers on the reaper socket', () => {
  it('is handed only the credential a signed lease names, whatever variable it asks for', async () => {
    const w = await world();
    const minted = await mintUri(w, ['--role', 'short', '--ttl', '1m']);
    const pid = await reaperPid(w.home);
    process.kill(pid!, 'SIGKILL');
    expect(await waitFor(() => !isAlive(pid!), 2_000)).toBe(true);
    // A process of the same user (a `jit exec` child) took the socket over, and asks for a
    // variable of its choosing through a real lease id and through a made-up one.
    const path = reaperSocketPath(w.home);
    await unlink(path).catch(() => {});
    const asked: Array<Record<string, unknown>> = [];
    const wants = [
      { id: minted.id, key: 'testdb\u0000env:PLANTED_SECRET' },
      { id: 'zzzzzzzzzz', key: 'other\u0000env:PLANTED_SECRET' },
    ];
    const fake = createServer((s) => {
      s.on('error', () => {});
      s.on('data', (d) => {
        for (const line of d.toString().split('\n').filter(Boolean)) asked.push(JSON.parse(line) as Record<string, unknown>);
        s.write(`${JSON.stringify({ ok: true, pid: process.pid, keys: [], wants })}\n`);
      });
    });
    await new Promise<void>((r) => fake.listen(path, () => r()));
    try {
      const r = await w.run(['list'], { env: { PLANTED_SECRET: 'planted-value-0123456789' } });
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.stringify(asked)).not.toContain('planted-value-0123456789');
      // What the signed lease names is what goes (the same as before the takeover).
      expect(asked).toContainEqual(expect.objectContaining({ type: 'lease', id: minted.id, secret: server.adminPassword }));
    } finally {
      await new Promise<void>((r) => fake.close(() => r()));
      expect((await w.run(['revoke', minted.id])).code).toBe(0);
    }
  });
});
