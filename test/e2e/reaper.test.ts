/**
 * The detached reaper as a process (issue 3): `kill -9` loses nothing, one reaper per state
 * directory however many start at once, and a stale socket is taken over.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { usePostgres } from '../helpers/servers.js';
import { JIT_BIN, leaseFiles, makeWorld, roleExists, stopReaper, waitFor, type JitWorld } from '../helpers/jit-cli.js';
import { reaperSocketPath } from '../../src/reaper/protocol.js';
import pg from 'pg';
import { createReadmeAdmin } from '../helpers/pg-readme-admin.js';
import { canLogin, isAlive, mintUri, openSession, reaperPid, sessionAlive, sleep, whenGone } from './support.js';

const server = usePostgres(15);
const worlds: JitWorld[] = [];
const children: ChildProcess[] = [];

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

afterAll(async () => {
  for (const w of worlds) await w.cleanup().catch(() => {});
});

const world = async (env: NodeJS.ProcessEnv = {}) => {
  const w = await makeWorld(server, { env });
  worlds.push(w);
  return w;
};

/** Start `jit __reaper` for a world the way spawnReaper does, but as our child so we can count it. */
function startReaper(w: JitWorld): ChildProcess {
  const child = spawn(process.execPath, [JIT_BIN, '__reaper'], { env: w.env, stdio: 'ignore' });
  children.push(child);
  return child;
}

const running = (cs: ChildProcess[]) => cs.filter((c) => c.exitCode === null && c.signalCode === null);

describe('kill -9 of the reaper', () => {
  it('loses nothing: the server refuses the login after expiry and the next jit command restarts the reaper', async () => {
    const w = await world();
    const minted = await mintUri(w, ['--role', 'short', '--ttl', '6s']);
    const expiresAt = Date.parse(minted.expires_at);
    const pid = await reaperPid(w.home);
    expect(pid).not.toBeNull();
    process.kill(pid!, 'SIGKILL');
    expect(await waitFor(() => !isAlive(pid!), 2_000)).toBe(true);
    expect(Date.now()).toBeLessThan(expiresAt); // killed before it could act

    await sleep(Math.max(0, expiresAt + 1_500 - Date.now()));
    // Nobody revoked it, yet the server itself refuses new logins (VALID UNTIL).
    expect(await roleExists(server, minted.user)).toBe(true);
    expect(await canLogin(minted.uri)).toBe(false);
    expect(await reaperPid(w.home)).toBeNull();

    const list = await w.run(['list']);
    expect(list.code, list.stderr).toBe(0);
    const goneAt = await whenGone(server, minted.user, Date.now() + 4_000);
    expect(goneAt, `${minted.user} still exists 4s after \`jit list\` (reaper not restarted?)`).not.toBeNull();
    // It was a new reaper that did it, and it says so in its log (written once the lease is
    // gone and audited, a moment after the role).
    const revokedLine = new RegExp(`revoked ${minted.user} \\(lease ${minted.id}, expiry`);
    await waitFor(async () => revokedLine.test(await readFile(join(w.home, 'reaper.log'), 'utf8')), 2_000);
    const log = await readFile(join(w.home, 'reaper.log'), 'utf8');
    const starts = [...log.matchAll(/reaper (\d+) started/g)].map((m) => Number(m[1]));
    expect(starts).toHaveLength(2);
    expect(starts[1]).not.toBe(pid);
    expect(log).toMatch(revokedLine);
    expect(await waitFor(async () => (await leaseFiles(w.home)).length === 0, 2_000)).toBe(true);
  });
});

describe('single instance', () => {
  it('10 reapers started at once leave exactly one running', async () => {
    const w = await world();
    const minted = await mintUri(w, ['--role', 'readonly', '--ttl', '15m']);
    await stopReaper(w.home);
    expect(await reaperPid(w.home)).toBeNull();

    const ten = Array.from({ length: 10 }, () => startReaper(w));
    // The losers leave on their own and the winner answers once it is up: wait for both rather
    // than for a guessed moment (ten node processes starting at once on two cores take a while).
    await waitFor(async () => running(ten).length <= 1 && (await reaperPid(w.home)) !== null, 15_000);
    const alive = running(ten);
    expect(alive, `${alive.length} reapers running`).toHaveLength(1);
    expect(await reaperPid(w.home)).toBe(alive[0]!.pid);
    // Still one a little later (a loser must not linger and act on the same leases).
    await sleep(1_000);
    expect(running(ten)).toHaveLength(1);
    expect(await roleExists(server, minted.user)).toBe(true);
  });

  it('takes over a stale socket left by a reaper killed with -9', async () => {
    const w = await world();
    await mintUri(w, ['--role', 'readonly', '--ttl', '15m']);
    const pid = await reaperPid(w.home);
    expect(pid).not.toBeNull();
    process.kill(pid!, 'SIGKILL');
    expect(await waitFor(() => !isAlive(pid!), 2_000)).toBe(true);
    expect(existsSync(reaperSocketPath(w.home)), 'the killed reaper should leave its socket file behind').toBe(true);
    expect(await reaperPid(w.home)).toBeNull();

    const one = startReaper(w);
    expect(await waitFor(async () => (await reaperPid(w.home)) === one.pid, 3_000)).toBe(true);
  });

  it('10 reapers racing for a stale socket still leave exactly one', async () => {
    const w = await world();
    await mintUri(w, ['--role', 'readonly', '--ttl', '15m']);
    const pid = await reaperPid(w.home);
    process.kill(pid!, 'SIGKILL');
    expect(await waitFor(() => !isAlive(pid!), 2_000)).toBe(true);
    expect(existsSync(reaperSocketPath(w.home))).toBe(true);

    const ten = Array.from({ length: 10 }, () => startReaper(w));
    // The losers leave on their own and the winner answers once it is up: wait for both rather
    // than for a guessed moment (ten node processes starting at once on two cores take a while).
    await waitFor(async () => running(ten).length <= 1 && (await reaperPid(w.home)) !== null, 15_000);
    const alive = running(ten);
    expect(alive, `${alive.length} reapers running`).toHaveLength(1);
    expect(await reaperPid(w.home)).toBe(alive[0]!.pid);
  });
});

describe('state directory removed under a running reaper', () => {
  it('the reaper still revokes the leases it knew, at their expiry, and ends their sessions', async () => {
    const w = await world();
    // A trailing slash in $JIT_HOME must not confuse the reaper about where its socket lives.
    const minted = await mintUri(w, ['--role', 'short', '--ttl', '5s'], { env: { JIT_HOME: `${w.home}/` } });
    const session = await openSession(minted.uri);
    const pid = await reaperPid(w.home);
    expect(pid).not.toBeNull();
    await sleep(700); // the reaper has read the lease
    const { rm } = await import('node:fs/promises');
    await rm(w.home, { recursive: true, force: true });
    const gone = await whenGone(server, minted.user, Date.parse(minted.expires_at) + 4_000);
    expect(gone, 'login still there 4 s after expiry').not.toBeNull();
    expect(await sessionAlive(session)).toBe(false);
    // Nothing left to watch: it leaves rather than run forever.
    expect(await waitFor(() => !isAlive(pid!), 10_000)).toBe(true);
  });

  it('right after the last revoke (a CI job with a throwaway JIT_HOME), the reaper exits', async () => {
    // Not the tests' short linger: the default one, which a removed JIT_HOME cuts short.
    const w = await world({ JIT_REAPER_LINGER: '' });
    const minted = await mintUri(w, ['--role', 'short', '--ttl', '1m']);
    const pid = await reaperPid(w.home);
    expect(pid).not.toBeNull();
    expect((await w.run(['revoke', minted.id])).code).toBe(0);
    const { rm } = await import('node:fs/promises');
    await rm(w.home, { recursive: true, force: true });
    expect(await waitFor(() => !isAlive(pid!), 15_000)).toBe(true);
  });

  it('with nothing left it stays a while (60 s by default), so the next command finds it up', async () => {
    const w = await world({ JIT_REAPER_LINGER: '' });
    const first = await mintUri(w, ['--role', 'short', '--ttl', '1m']);
    const pid = await reaperPid(w.home);
    expect((await w.run(['revoke', first.id])).code).toBe(0);
    await sleep(6_000);
    expect(isAlive(pid!)).toBe(true);
    const second = await mintUri(w, ['--role', 'short', '--ttl', '1m']);
    expect(await reaperPid(w.home)).toBe(pid);
    expect((await w.run(['revoke', second.id])).code).toBe(0);
  });

  it('JIT_REAPER_LINGER=0: it leaves as soon as nothing is left', async () => {
    const w = await world({ JIT_REAPER_LINGER: '0' });
    const minted = await mintUri(w, ['--role', 'short', '--ttl', '1m']);
    const pid = await reaperPid(w.home);
    expect((await w.run(['revoke', minted.id])).code).toBe(0);
    expect(await waitFor(() => !isAlive(pid!), 2_500)).toBe(true);
  });
});

describe('a reaper restarted without the admin credential', () => {
  it('gets it from the next command that can read it, and revokes', async () => {
    const w = await world();
    const minted = await mintUri(w, ['--role', 'short', '--ttl', '5s']);
    const pid = await reaperPid(w.home);
    process.kill(pid!, 'SIGKILL');
    expect(await waitFor(() => !isAlive(pid!), 2_000)).toBe(true);
    // Restarted from a shell that cannot read the password: the lease waits, the role stays.
    const blind = await w.run(['list'], { env: { JIT_TEST_ADMIN_PW: '' } });
    expect(blind.code).toBe(0);
    await sleep(Math.max(0, Date.parse(minted.expires_at) + 1_500 - Date.now()));
    expect(await roleExists(server, minted.user)).toBe(true);
    // A command that can read it hands it over to the running reaper.
    expect((await w.run(['list'])).code).toBe(0);
    expect(await whenGone(server, minted.user, Date.now() + 5_000)).not.toBeNull();
  });
});

describe('an env: admin password rotated while a lease is live', () => {
  it('the reaper drops the refused password and revokes with the new one the next command hands it', async () => {
    const admin = await createReadmeAdmin(server);
    const policy = `version: 1
databases:
  testdb:
    engine: postgres
    host: 127.0.0.1
    port: ${server.port}
    database: ${server.database}
    tls: disable
    admin:
      user: ${admin.user}
      password: env:ROTATED_ADMIN_PW
    roles:
      short:
        ttl: 5s
        grants:
          - privileges: [SELECT]
            tables: [public.tickets]
`;
    const w = await makeWorld(server, { policy, env: { ROTATED_ADMIN_PW: admin.password } });
    worlds.push(w);
    const minted = await mintUri(w, ['--role', 'short']);
    const rotated = `${admin.password}-rotated`;
    const su = await server.admin();
    try {
      await su.query(`ALTER ROLE ${pg.escapeIdentifier(admin.user)} PASSWORD ${pg.escapeLiteral(rotated)}`);
    } finally {
      await su.end();
    }
    // At expiry the reaper's revoke is refused with the old password, and it says so.
    const refused = new RegExp(`revoke ${minted.user} \\(lease ${minted.id}\\) failed, attempt 1: .*password authentication failed`);
    const log = () => readFile(join(w.home, 'reaper.log'), 'utf8').catch(() => '');
    expect(await waitFor(async () => refused.test(await log()), Date.parse(minted.expires_at) - Date.now() + 10_000)).toBe(true);
    expect(await roleExists(server, minted.user)).toBe(true);
    // It does not keep knocking with the refused one: a command with the new value hands it over.
    const list = await w.run(['list'], { env: { ROTATED_ADMIN_PW: rotated } });
    expect(list.code, list.stderr).toBe(0);
    expect(await whenGone(server, minted.user, Date.now() + 10_000)).not.toBeNull();
    // The reaper writes its line once the whole revoke has returned, a moment after the drop.
    const revoked = new RegExp(`revoked ${minted.user} \\(lease ${minted.id}, expiry`);
    expect(await waitFor(async () => revoked.test(await log()), 5_000)).toBe(true);
  });
});
