import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

// The real Secret Service (gnome-keyring in a throwaway D-Bus session), driven through the built
// module by test/fixtures/keychain-driver.mjs. Missing tools fail the suite: never a skip.

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DRIVER = join(ROOT, 'test/fixtures/keychain-driver.mjs');
const BUILT = join(ROOT, 'dist/secrets/os-keychain.js');
const UNREACHABLE = "the OS keychain is not reachable: no Secret Service on this session's D-Bus";
const ALTERNATIVES =
  'store the admin password elsewhere: password: env:NAME or password: command:… in the policy (e.g. command:op read op://vault/db/password)';
// gnome-keyring creates the login keyring with this password, unlocked, in the temp HOME.
const START_KEYRING = 'printf pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null';

type Step = { op: string; account?: string; secret?: string };
type Result = { op: string; ok: boolean; value?: unknown; error?: { name: string; message: string; hint?: string; exitCode?: number } };

let home: string;
const account = () => `it-${randomBytes(6).toString('hex')}`;

beforeAll(() => {
  const missing = ['dbus-run-session', 'gnome-keyring-daemon', 'secret-tool', 'dbus-send'].filter(
    (tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0,
  );
  if (missing.length) throw new Error(`missing ${missing.join(', ')}: apt-get install -y gnome-keyring dbus-x11 libsecret-tools`);
  if (!existsSync(BUILT)) throw new Error(`${BUILT} is missing: run npm run build first`);
  home = mkdtempSync(join(tmpdir(), 'jit-keychain-'));
});

afterAll(() => {
  if (home) rmSync(home, { recursive: true, force: true });
});

/** A fresh HOME per run, so gnome-keyring never reads or writes the real user's keyrings. */
function isolatedEnv(steps: Step[]): NodeJS.ProcessEnv {
  const dir = mkdtempSync(join(home, 'run-'));
  mkdirSync(join(dir, 'runtime'), { mode: 0o700 });
  return {
    PATH: process.env.PATH,
    HOME: dir,
    XDG_DATA_HOME: join(dir, 'data'),
    XDG_CONFIG_HOME: join(dir, 'config'),
    XDG_CACHE_HOME: join(dir, 'cache'),
    XDG_RUNTIME_DIR: join(dir, 'runtime'),
    JIT_NODE: process.execPath,
    JIT_DRIVER: DRIVER,
    JIT_KEYCHAIN_OPS: JSON.stringify(steps),
  };
}

/** Runs argv in its own process group, killed whole (bus, keyring daemon, node) after 20 s or when done. */
function drive(argv: string[], steps: Step[]): Promise<Result[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { env: isolatedEnv(steps), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (err += c));
    const killGroup = () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(killGroup, 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      killGroup();
      const line = out.trim().split('\n').at(-1) ?? '';
      if (code !== 0 || !line.startsWith('[')) return reject(new Error(`driver failed (exit ${code}):\n${out}\n${err}`));
      resolve(JSON.parse(line) as Result[]);
    });
  });
}

const inKeyringSession = (steps: Step[]) =>
  drive(['dbus-run-session', '--', 'sh', '-c', `${START_KEYRING} && exec "$JIT_NODE" "$JIT_DRIVER"`], steps);

describe('OS keychain against a real Secret Service', () => {
  it('stores in the Secret Service: set, get, secret-tool lookup, overwrite, delete', async () => {
    const acct = account();
    const secrets = ['plain-password-1', `it's "quoted" \`x\` $(rm -rf /) \\ ünï 🔑 パスワード`, 'x'.repeat(300)];
    const steps: Step[] = [{ op: 'backend' }];
    for (const secret of secrets) steps.push({ op: 'set', account: acct, secret }, { op: 'get', account: acct }, { op: 'lookup', account: acct });
    steps.push({ op: 'delete', account: acct }, { op: 'get', account: acct }, { op: 'delete', account: acct }, { op: 'keyutils', account: acct });

    const results = await inKeyringSession(steps);
    expect(results.filter((r) => !r.ok)).toEqual([]);
    const values = results.map((r) => r.value);
    expect(values[0]).toBe('Secret Service');
    secrets.forEach((secret, i) => {
      expect(values.slice(1 + 3 * i, 4 + 3 * i)).toEqual([null, secret, secret]);
    });
    // deleted, gone, nothing left to delete, and nothing ever went to the kernel keyring
    expect(values.slice(-4)).toEqual([true, null, false, null]);
  });

  it('fails clearly, and stores nothing anywhere, without a D-Bus session', async () => {
    const acct = account();
    const results = await drive([process.execPath, DRIVER], [
      { op: 'get', account: acct },
      { op: 'set', account: acct, secret: 'must-not-be-stored' },
      { op: 'keyutils', account: acct },
    ]);
    for (const r of results.slice(0, 2)) {
      expect(r.ok).toBe(false);
      expect(r.error).toEqual({ name: 'JitError', message: UNREACHABLE, hint: ALTERNATIVES, exitCode: 1 });
    }
    expect(results[2]).toMatchObject({ ok: true, value: null });
  });

  it('fails clearly on a D-Bus session that has no Secret Service provider', async () => {
    // A session bus with no .service files, so nothing can be activated as org.freedesktop.secrets.
    const conf = join(home, 'bare-session.conf');
    writeFileSync(conf, `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>session</type><listen>unix:tmpdir=${tmpdir()}</listen><auth>EXTERNAL</auth>
<policy context="default"><allow send_destination="*"/><allow receive_sender="*"/><allow own="*"/></policy></busconfig>\n`);
    const results = await drive(['dbus-run-session', `--config-file=${conf}`, '--', process.execPath, DRIVER], [
      { op: 'set', account: account(), secret: 'must-not-be-stored' },
    ]);
    expect(results[0].error).toMatchObject({ message: UNREACHABLE, hint: ALTERNATIVES, exitCode: 1 });
  });

  it('says there is no keyring to store into when the provider has none yet', async () => {
    // gnome-keyring activated on demand with a fresh HOME has no login keyring, and creating one needs a prompt.
    const acct = account();
    const results = await drive(['dbus-run-session', '--', process.execPath, DRIVER], [
      { op: 'get', account: acct },
      { op: 'set', account: acct, secret: 'nowhere-to-go' },
    ]);
    expect(results[0]).toMatchObject({ ok: true, value: null });
    expect(results[1].error?.message).toBe('the OS keychain (Secret Service) has no default keyring to store into');
  });

  it('says the keyring is locked when it cannot be unlocked (no prompter on this session)', async () => {
    const acct = account();
    const results = await inKeyringSession([
      { op: 'set', account: acct, secret: 'stored-before-lock' },
      { op: 'lock' },
      { op: 'get', account: acct },
      { op: 'set', account: acct, secret: 'after-lock' },
      { op: 'delete', account: acct },
    ]);
    expect(results.slice(0, 2).every((r) => r.ok)).toBe(true);
    for (const r of results.slice(2)) {
      expect(r.error?.message).toBe('the OS keychain (Secret Service) is locked and was not unlocked');
      expect(r.error?.hint).toMatch(/^unlock the login keyring .* or use password: env:NAME or password: command:… in the policy$/);
    }
  });
});

describe('OS keychain error translation', () => {
  it('maps each message the library produced to one clear JitError', async () => {
    const { translateKeyringError } = await import('../../src/secrets/os-keychain.js');
    const t = (message: string) => translateKeyringError(new Error(message), 'Secret Service', 'linux');
    expect(t('Platform failure: DBus error: Using X11 for dbus-daemon autolaunch was disabled at compile time, set your DBUS_SESSION_BUS_ADDRESS instead').message).toBe(UNREACHABLE);
    expect(t('Platform failure: DBus error: Failed to connect to socket /tmp/nope: No such file or directory').message).toBe(UNREACHABLE);
    expect(t('Platform failure: DBus error: The name org.freedesktop.secrets was not provided by any .service files').message).toBe(UNREACHABLE);
    expect(t('Platform failure: DBus error: Did not receive a reply. Possible causes include: …').message).toMatch(/is not answering/);
    expect(t("Couldn't access platform storage: Secret Service: unlock prompt was dismissed").message).toMatch(/is locked/);
    expect(t("Couldn't access platform storage: Secret Service: no result found").message).toMatch(/no default keyring/);
    expect(t('something new password=hunter22').message).toBe('the OS keychain (Secret Service) failed: something new password=***');
  });

  it('gives up on a call that never settles instead of hanging', async () => {
    vi.resetModules();
    vi.doMock('@napi-rs/keyring', () => ({
      AsyncEntry: class {
        getPassword = () => new Promise(() => {});
      },
    }));
    try {
      const { openOsKeychain } = await import('../../src/secrets/os-keychain.js');
      const kc = await openOsKeychain({ timeoutMs: 200 });
      await expect(kc.get('db')).rejects.toMatchObject({ message: 'the OS keychain (Secret Service) did not answer within 200 ms' });
    } finally {
      vi.doUnmock('@napi-rs/keyring');
      vi.resetModules();
    }
  });
});
