import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { freePort } from './free-port.js';
import { makeWorld, serverWide, stopReaper } from './jit-cli.js';
import { mysqlPolicy } from './mysql-cli.js';
import { useMariadb, usePostgres } from './servers.js';
import { processesOfHome } from './processes.js';

describe('a test world', () => {
  it('cleans up at once after a command that failed while the reaper it started was still coming up', async () => {
    // Nobody listens on the port: the mint fails once the request is valid, after the hand-off
    // started a reaper that does not answer on its socket yet.
    const port = await freePort();
    const w = await makeWorld({ port, database: 'testdb', adminPassword: 'x' });
    // Nobody listens yet; this only loads what cleanup() uses, so it runs as fast as it does
    // later in a file.
    await stopReaper(w.home);
    const r = await w.run(['uri', 'testdb', '--role', 'readonly']);
    expect(r.code, r.stderr).toBe(1);
    await w.cleanup();
    expect(processesOfHome(w.home)).toEqual([]);
    // Nothing comes back to write into the removed directory.
    await new Promise((r) => setTimeout(r, 1500));
    expect(existsSync(w.dir)).toBe(false);
    expect(processesOfHome(w.home)).toEqual([]);
  });
});

describe('a world of a shared scope', () => {
  it('knows the commands that act on the whole server', () => {
    expect(serverWide(['revoke', '--all', '--yes'])).toBe(true);
    expect(serverWide(['revoke', '--database', 'testdb', '--all'])).toBe(true);
    expect(serverWide(['reap', '--database', 'testdb'])).toBe(true);
    expect(serverWide(['revoke', 'abc123'])).toBe(false);
    expect(serverWide(['list', '--all'])).toBe(false);
    expect(serverWide(['exec', 'testdb', '--role', 'readonly', '--', 'revoke', '--all'])).toBe(false);
  });

  describe('on PostgreSQL', () => {
    const pg = usePostgres(15);
    it('refuses revoke --all and reap, which would revoke what files running beside it minted', async () => {
      const w = await makeWorld(pg);
      await expect(w.run(['revoke', '--all', '--yes'])).rejects.toThrow(/acts on the whole server/);
      // A copy of the scope (a world with another admin password) is still the shared scope.
      await expect((await makeWorld({ ...pg, adminPassword: 'other' })).run(['reap'])).rejects.toThrow(/acts on the whole server/);
      expect((await w.run(['list'])).code).toBe(0);
    });
  });

  describe('on MariaDB', () => {
    const my = useMariadb();
    it('refuses them there too', async () => {
      const w = await makeWorld(my, { policy: mysqlPolicy(my) });
      await expect(w.run(['revoke', '--all', '--database', 'testdb', '--yes'])).rejects.toThrow(/acts on the whole server/);
    });
  });
});
