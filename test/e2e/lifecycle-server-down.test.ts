/**
 * The server down across a lease's expiry (issue 3): the reaper keeps the lease, and revokes
 * within seconds of the server's return. Its own file: stopping the run's server needs the
 * server to itself.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { usePostgres } from '../helpers/servers.js';
import { leaseFiles, makeWorld, waitFor, type JitWorld } from '../helpers/jit-cli.js';
import { canLogin, mintUri, reaperPid, sleep, whenGone } from './support.js';

const server = usePostgres(15, { exclusive: true });
const worlds: JitWorld[] = [];
const world = async (env?: NodeJS.ProcessEnv) => {
  const w = await makeWorld(server, { env });
  worlds.push(w);
  return w;
};

afterAll(async () => {
  for (const w of worlds) await w.cleanup().catch(() => {});
});

describe('expiry', () => {
  it('revokes within seconds when the server was down across expiry and comes back', async () => {
    const w = await world();
    const minted = await mintUri(w, ['--role', 'short', '--ttl', '5s']);
    const expiresAt = Date.parse(minted.expires_at);
    await server.pause();
    let restarted = false;
    try {
      await sleep(Math.max(0, expiresAt + 2_000 - Date.now()));
      // The reaper keeps the lease until the server confirms the login is gone.
      expect(await leaseFiles(w.home)).toEqual([`${minted.id}.json`]);
      expect(await reaperPid(w.home), 'the reaper gave up while the server was down').not.toBeNull();
      await server.resume();
      restarted = true;
    } finally {
      if (!restarted) await server.resume().catch(() => {});
    }
    const back = Date.now();
    const goneAt = await whenGone(server, minted.user, back + 6_000);
    expect(goneAt, `${minted.user} not revoked within 6s of the server's return`).not.toBeNull();
    console.log(`[server-down] ${minted.user}: role gone ${goneAt! - back} ms after the server came back`);
    expect(await waitFor(async () => (await leaseFiles(w.home)).length === 0, 3_000)).toBe(true);
    expect(await canLogin(minted.uri)).toBe(false);
  });
});
