import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { usePostgres } from '../helpers/servers.js';
import { JIT_BIN, makeWorld, testPolicy, type JitWorld } from '../helpers/jit-cli.js';
import { startInTmux, type Term } from '../helpers/tmux.js';

// `jit admin set` at a real hidden prompt, storing into a real Secret Service (gnome-keyring in a
// throwaway D-Bus session), then `jit uri` reading the admin password back from it.

const pg = usePostgres(15);
let w: JitWorld;
let t: Term | undefined;

beforeAll(async () => {
  const policy = testPolicy(pg).replace('password: env:JIT_TEST_ADMIN_PW', 'password: keychain');
  w = await makeWorld(pg, { policy });
});
afterAll(async () => {
  t?.kill();
  await w?.cleanup();
});

describe('admin credential in the OS keychain', () => {
  it('admin set (hidden prompt) → uri reads it → admin forget → uri says how to store it', async () => {
    const runtime = join(w.dir, 'runtime');
    mkdirSync(runtime, { mode: 0o700 });
    const jit = `${process.execPath} ${JIT_BIN}`;
    const steps = [
      'printf pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null',
      `${jit} admin set testdb; echo "SET=$?"`,
      `${jit} uri testdb --role readonly --ttl 1m; echo "URI=$?"`,
      `printf %s "$JIT_TEST_ADMIN_PW" | ${jit} admin set testdb --password-stdin; echo "STDIN=$?"`,
      `${jit} admin forget testdb; echo "FORGET=$?"`,
      `${jit} uri testdb --role readonly --ttl 1m; echo "AFTER=$?"`,
    ].join('; ');
    const env = { ...w.env, XDG_RUNTIME_DIR: runtime, XDG_DATA_HOME: join(w.dir, 'data'), TERM: 'xterm-256color' };
    t = startInTmux('keychain', w.dir, env, `dbus-run-session -- sh -c '${steps.replace(/'/g, `'\\''`)}'`);
    expect(await t.waitFor(/Admin password for testdb \(postgres@127\.0\.0\.1:\d+\)/)).toBe(true);
    t.type(pg.adminPassword);
    t.send('Enter');
    expect(await t.waitFor(/AFTER=\d+/, 30_000)).toBe(true);
    const screen = t.screen();
    expect(screen).not.toContain(pg.adminPassword);
    expect(screen).toContain('SET=0');
    expect(screen).toMatch(/stored the admin password for testdb in the Secret Service/);
    expect(screen).toMatch(new RegExp(`postgresql://jit_${pg.requester}_[a-z0-9]+:`));
    expect(screen).toContain('URI=0');
    expect(screen).toContain('STDIN=0');
    expect(screen).toMatch(/deleted the admin password for testdb/);
    expect(screen).toContain('FORGET=0');
    expect(screen).toMatch(/error: no admin password stored for "testdb"/);
    expect(screen).toMatch(/hint: .*jit admin set testdb/);
    expect(screen).toContain('AFTER=1');
  });

  it('without a Secret Service: a clear error naming env: and command:, no silent fallback', async () => {
    const r = await w.run(['uri', 'testdb', '--role', 'readonly'], { env: { DBUS_SESSION_BUS_ADDRESS: '' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: the OS keychain is not reachable/m);
    expect(r.stderr).toMatch(/^hint: .*env:NAME.*command:/m);
    const set = await w.run(['admin', 'set', 'testdb', '--password-stdin'], { input: 'x-secret-value', env: { DBUS_SESSION_BUS_ADDRESS: '' } });
    expect(set.code).toBe(1);
    expect(set.stderr).not.toContain('x-secret-value');
  });

  it('admin set logs in with the password first: a wrong one is not stored (--no-verify stores it anyway)', async () => {
    t?.kill();
    const runtime = join(w.dir, 'runtime-verify');
    mkdirSync(runtime, { mode: 0o700 });
    const jit = `${process.execPath} ${JIT_BIN}`;
    const steps = [
      'printf pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null',
      `printf wrong-admin-pw | ${jit} admin set testdb --password-stdin; echo "WRONG=$?"`,
      `${jit} uri testdb --role readonly --ttl 1m; echo "URI=$?"`,
      `printf wrong-admin-pw | ${jit} admin set testdb --password-stdin --no-verify; echo "NOVERIFY=$?"`,
      `${jit} uri testdb --role readonly --ttl 1m; echo "AFTER=$?"`,
    ].join('; ');
    const env = { ...w.env, XDG_RUNTIME_DIR: runtime, XDG_DATA_HOME: join(w.dir, 'data-verify'), TERM: 'xterm-256color' };
    t = startInTmux('keychain-verify', w.dir, env, `dbus-run-session -- sh -c '${steps.replace(/'/g, `'\\''`)}'`);
    expect(await t.waitFor(/AFTER=\d+/, 30_000)).toBe(true);
    const screen = t.screen().replace(/\n/g, ' ');
    expect(screen).toMatch(/error: the server refused this password for postgres@127\.0\.0\.1:\d+; nothing stored/);
    expect(screen).toContain('WRONG=1');
    expect(screen).toMatch(/error: no admin password stored for "testdb"/);
    expect(screen).toContain('URI=1');
    expect(screen).toMatch(/stored the admin password for testdb .*\(not checked: --no-verify\)/);
    expect(screen).toContain('NOVERIFY=0');
    expect(screen).toMatch(/admin login to .* failed/);
    expect(screen).toContain('AFTER=1');
    expect(screen).not.toContain('wrong-admin-pw');
  });

  it('admin set refuses a database whose policy reads the password from elsewhere (exit 2, nothing stored)', async () => {
    const other = await makeWorld(pg);
    try {
      const r = await other.run(['admin', 'set', 'testdb', '--password-stdin'], { input: 'x-secret-value' });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^error: the policy reads the admin password of testdb from env:JIT_TEST_ADMIN_PW, not the keychain; nothing stored$/m);
      expect(r.stderr).toMatch(/^hint: set admin.password: keychain for testdb in /m);
    } finally {
      await other.cleanup();
    }
  });
});
