import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeWorld, testPolicy, type JitWorld } from '../helpers/jit-cli.js';
import type { PgServer } from '../helpers/pg-server.js';

// No server: every input here must be refused before anything is contacted (port 1 answers nothing).
let w: JitWorld;
const fake = { port: 1, adminPassword: 'unused' } as unknown as PgServer;

beforeAll(async () => {
  w = await makeWorld(fake);
});
afterAll(async () => {
  await w?.cleanup();
});

describe('hostile policies are refused with exit 2 and one line, before connecting', () => {
  it('jit policy check /dev/zero ends (it read forever) and refuses', async () => {
    const r = await w.run(['policy', 'check', '/dev/zero']);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe('error: /dev/zero: the policy is larger than 1048576 bytes (1 MiB), the most accepted');
  });

  it.each([
    ['connection_limit: 2147483648', 'connection_limit: must be an integer from 1 to 10000'],
    ['max_ttl: 200000000d', 'max_ttl: max_ttl "200000000d" is above the 30d maximum'],
  ])('refuses %s (it reached the server, or crashed as "this is a bug")', async (line, message) => {
    const file = join(w.dir, 'hostile.yaml');
    await writeFile(file, testPolicy(fake).replace('        ttl: 15m\n        max_ttl: 1h\n', `        ${line}\n`));
    for (const args of [['policy', 'check', file], ['--policy', file, 'uri', 'testdb', '--role', 'readonly']]) {
      const r = await w.run(args);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      const lines = r.stderr.trim().split('\n');
      expect(lines[0]).toMatch(new RegExp(`^error: (\\S*/)?hostile\\.yaml:\\d+:\\d+: databases\\.testdb\\.roles\\.readonly\\.${message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
      expect(r.stderr).not.toMatch(/this is a bug|\n\s+at /);
    }
  });
});

describe('hostile input on the command line', () => {
  it('a --reason longer than 1000 characters is refused with exit 2 before connecting (it went into the audit trail and the server unbounded)', async () => {
    const r = await w.run(['uri', 'testdb', '--role', 'readonly', '--reason', 'x'.repeat(1001)]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trim().split('\n');
    expect(lines).toEqual(['error: the reason is 1001 characters long; at most 1000 are accepted', 'hint: say why in fewer words; a ticket link is enough']);
  });
});
