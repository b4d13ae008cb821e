import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmod, chown, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
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

describe('a ./jit.yaml found in the working directory is used only when it is the user\'s own', () => {
  // A planted ./jit.yaml (a shared or cloned directory) could name a command: admin source, or a
  // host of its choosing with admin.auth: password and the user's keychain account.
  it.each([
    ['writable by others', 0o666, false],
    ['another user\'s', 0o644, true],
  ])('refuses a ./jit.yaml %s with exit 2, before running anything', async (_what, mode, otherOwner) => {
    const planted = join(w.dir, 'jit.yaml');
    const marker = join(w.dir, 'ran');
    await writeFile(planted, testPolicy(fake).replace('password: env:JIT_TEST_ADMIN_PW', `password: "command:touch ${marker}; echo pw"`));
    await chmod(planted, mode);
    if (otherOwner) await chown(planted, 65534, 65534);
    try {
      const r = await w.run(['uri', 'testdb', '--role', 'readonly'], { env: { JIT_POLICY: '' } });
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.split('\n')[0]).toMatch(/^error: refusing to use the policy jit\.yaml in the working directory: (writable by group or others \(mode 0666\)|owned by uid 65534, not by you \(uid \d+\))$/);
      expect(existsSync(marker)).toBe(false);
      // Named explicitly, the user chose it: read as before.
      expect((await w.run(['policy', 'check', planted], { env: { JIT_POLICY: '' } })).code).toBe(0);
    } finally {
      await chown(planted, process.getuid!(), process.getgid!()).catch(() => {});
      await chmod(planted, 0o644);
      await writeFile(planted, testPolicy(fake));
    }
  });
});
