import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:net';
import { chownSync, lstatSync, mkdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { startPostgres, type PgServer } from '../helpers/pg-server.js';
import { makeWorld, stopReaper, type JitWorld } from '../helpers/jit-cli.js';
import { reaperSocketPath } from '../../src/reaper/protocol.js';

// A $JIT_HOME too deep for a unix socket path puts the reaper's socket in a private directory,
// and jit never hands a credential to a socket another user owns.

let pg: PgServer;
let w: JitWorld;
let deepHome: string;

beforeAll(async () => {
  pg = await startPostgres();
  w = await makeWorld(pg);
  deepHome = join(w.dir, 'd'.repeat(60), 'e'.repeat(40), 'state');
  mkdirSync(dirname(deepHome), { recursive: true });
});
afterAll(async () => {
  await stopReaper(deepHome);
  await w?.cleanup();
  await pg?.stop();
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
    await w.run(['revoke', '--all', '--yes'], { env: { JIT_HOME: deepHome } });
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
    try {
      chownSync(path, 65534, 65534); // nobody: as root in the tests, we can hand it away
      const r = await w.run(['uri', 'testdb', '--role', 'readonly', '--ttl', '1m'], { env: { JIT_HOME: deepHome } });
      expect(r.code).toBe(0);
      expect(received).not.toContain(pg.adminPassword);
      expect(received).toBe('');
      expect(r.stderr).toMatch(/warning: the reaper did not start/);
    } finally {
      await new Promise<void>((r) => fake.close(() => r()));
      await w.run(['revoke', '--all', '--yes'], { env: { JIT_HOME: deepHome } });
    }
  });
});
