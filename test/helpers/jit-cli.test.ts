import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { freePort } from './free-port.js';
import { makeWorld, stopReaper } from './jit-cli.js';
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
