import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { JitError } from '../core/errors.js';
import { clearSecrets, redact } from '../core/redact.js';
import { describeSource, endSecretCommands, resolveAdminSecret, type SecretDeps } from './admin-secret.js';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryKeychain } from './memory-keychain.js';
import { readSecretFromStdin } from './read-secret.js';

const SECRET = `s3cr3t-'quoted"-ünï-🔑`;

function deps(env: NodeJS.ProcessEnv = {}, keychain = new MemoryKeychain()): SecretDeps {
  return { env: { PATH: process.env.PATH, ...env }, keychain: async () => keychain };
}

async function failure(p: Promise<unknown>): Promise<JitError> {
  const err = await p.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(JitError);
  return err as JitError;
}

/** The secret must not leak through the message, the hint, or anything they quote. */
function expectNoSecret(err: JitError, secret = SECRET): void {
  expect(`${err.message}\n${err.hint}`).not.toContain(secret);
}

afterEach(() => clearSecrets());

describe('describeSource', () => {
  it('names each source without revealing anything', () => {
    expect(describeSource('keychain', 'prod-db')).toBe('OS keychain (service jit, account prod-db)');
    expect(describeSource('env:PGADMIN_PW')).toBe('environment variable PGADMIN_PW');
    expect(describeSource('command:op read op://ops/db/password')).toBe('command `op read op://ops/db/password`');
    expect(describeSource(`command:${'x'.repeat(100)}`)).toMatch(/^command `x{59}…`$/);
  });

  it('refuses an unknown source as a policy error', async () => {
    expect(() => describeSource('vault')).toThrow(/is not keychain, env:NAME or command:/);
    expect((await failure(resolveAdminSecret('env:', 'db', deps()))).exitCode).toBe(2);
  });
});

describe('keychain source', () => {
  it('reads the account from the keychain and registers it for redaction', async () => {
    const secret = await resolveAdminSecret('keychain', 'prod-db', deps({}, new MemoryKeychain({ 'prod-db': SECRET })));
    expect(secret).toBe(SECRET);
    expect(redact(`oops ${SECRET}`)).toBe('oops ***');
  });

  it('says how to store a missing password', async () => {
    const err = await failure(resolveAdminSecret('keychain', 'prod-db', deps()));
    expect(err.message).toBe('no admin password stored for "prod-db" in the OS keychain');
    expect(err.hint).toBe("store it with 'jit admin set prod-db'");
    expect(err.exitCode).toBe(1);
  });

  it('passes keychain failures through unchanged', async () => {
    const kc = new MemoryKeychain();
    kc.failure = new JitError('the OS keychain is locked');
    expect((await failure(resolveAdminSecret('keychain', 'db', deps({}, kc)))).message).toBe('the OS keychain is locked');
  });

  it('memory keychain sets, gets and deletes', async () => {
    const kc = new MemoryKeychain();
    await kc.set('a', SECRET);
    expect(await kc.get('a')).toBe(SECRET);
    expect(await kc.delete('a')).toBe(true);
    expect(await kc.delete('a')).toBe(false);
    expect(await kc.get('a')).toBeNull();
  });
});

describe('env source', () => {
  it('reads the variable and registers it', async () => {
    expect(await resolveAdminSecret('env:PGADMIN_PW', 'db', deps({ PGADMIN_PW: SECRET }))).toBe(SECRET);
    expect(redact(SECRET)).toBe('***');
  });

  it('explains an unset or empty variable', async () => {
    const unset = await failure(resolveAdminSecret('env:PGADMIN_PW', 'db', deps()));
    expect(unset.message).toBe('environment variable PGADMIN_PW is not set');
    expect(unset.hint).toBe('export PGADMIN_PW=… or change admin.password in the policy');
    expect(unset.exitCode).toBe(1);
    const empty = await failure(resolveAdminSecret('env:PGADMIN_PW', 'db', deps({ PGADMIN_PW: '' })));
    expect(empty.message).toBe('environment variable PGADMIN_PW is empty');
  });
});

describe('env source names that are Object.prototype members', () => {
  it.each(['toString', 'constructor', '__proto__', 'hasOwnProperty'])('env:%s is not set, not a function or object used as the password', async (name) => {
    const err = await failure(resolveAdminSecret(`env:${name}`, 'db', { env: process.env, keychain: async () => new MemoryKeychain() }));
    expect(err.message).toBe(`environment variable ${name} is not set`);
  });
});

describe('command source', () => {
  const cmd = (script: string, env: NodeJS.ProcessEnv = {}) => resolveAdminSecret(`command:${script}`, 'db', deps(env));

  it('returns stdout, sees the env, and registers the result', async () => {
    expect(await cmd('printf "%s\\n" "$PW"', { PW: SECRET })).toBe(SECRET);
    expect(redact(`x ${SECRET} y`)).toBe('x *** y');
  });

  it('trims exactly one trailing newline, LF or CRLF, and nothing else', async () => {
    expect(await cmd(`printf 'pw  \\n'`)).toBe('pw  ');
    expect(await cmd(`printf 'pw\\r\\n'`)).toBe('pw');
    expect(await cmd(`printf 'pw\\n\\n'`)).toBe('pw\n');
    expect(await cmd(`printf 'pw'`)).toBe('pw');
  });

  it('does not give the command a stdin', async () => {
    expect(await cmd('cat; echo done')).toBe('done');
  });

  it('reports the exit code and never the stderr', async () => {
    const err = await failure(cmd('echo first >&2; echo "item not found" >&2; exit 3'));
    expect(err.message).toBe('admin password command exited with code 3');
    expect(err.message).not.toMatch(/item not found|first/);
    expect(err.exitCode).toBe(1);
    expect(err.hint).toMatch(/admin\.password/);
  });

  it('never quotes the secret, even when the failing command echoes it to stderr', async () => {
    const err = await failure(cmd('printf "%s\\n" "$PW"; echo "bad token $PW" >&2; exit 1', { PW: SECRET }));
    expect(err.message).toBe('admin password command exited with code 1');
    expectNoSecret(err);
  });

  it('does not print a secret the failing command wrote only to stderr', async () => {
    // Nothing on stdout, so redact() has never been told about this value.
    const err = await failure(cmd('echo "vault token s.Zq8unregisteredSecretValue42" >&2; exit 1'));
    expect(err.message).toBe('admin password command exited with code 1');
    expectNoSecret(err, 's.Zq8unregisteredSecretValue42');
  });

  it('redacts secret-looking text in stderr it was never told about', async () => {
    const err = await failure(cmd('echo "connect postgres://admin:hunter2x@db failed" >&2; exit 2'));
    expect(err.message).toBe('admin password command exited with code 2');
    expectNoSecret(err, 'hunter2x');
  });

  it('refuses empty output', async () => {
    const err = await failure(cmd('true'));
    expect(err.message).toBe('admin password command printed nothing on stdout');
    expect((await failure(cmd('echo'))).message).toBe('admin password command printed nothing on stdout');
  });

  it('kills a command that hangs, with its children', async () => {
    const started = Date.now();
    const err = await failure(
      resolveAdminSecret('command:sleep 30 & sleep 30', 'db', { ...deps(), commandTimeoutMs: 300 }),
    );
    expect(err.message).toBe('admin password command did not finish within 0.3 s');
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('a command printing without end (cat /dev/zero) is stopped at 64 KiB with one line, not read until memory runs out', async () => {
    const err = await failure(resolveAdminSecret('command:cat /dev/zero', 'db', { ...deps(), commandTimeoutMs: 60_000 }));
    expect(err.message).toBe('admin password command printed more than 64 KiB on stdout; jit stopped it');
    expect(err.exitCode).toBe(1);
  });

  it('reports a command killed by a signal', async () => {
    expect((await failure(cmd('kill -TERM $$'))).message).toBe('admin password command was killed by SIGTERM');
  });
});

describe('readSecretFromStdin', () => {
  it('reads everything and strips one trailing newline', async () => {
    expect(await readSecretFromStdin(Readable.from([Buffer.from('pa'), Buffer.from(`ss ${SECRET}\n`)]))).toBe(`pass ${SECRET}`);
    expect(await readSecretFromStdin(Readable.from(['pw\n\n']))).toBe('pw\n');
    expect(redact(`pass ${SECRET}`)).toBe('***');
  });

  it('refuses an empty stdin as a usage error', async () => {
    const err = await failure(readSecretFromStdin(Readable.from(['\n'])));
    expect(err.exitCode).toBe(2);
    expect(err.message).toBe('no password on stdin');
  });
});

describe('endSecretCommands', () => {
  it('ends a running command and what it started (its process group); its resolve fails', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'jit-secret-'));
    try {
      const pids = join(dir, 'pids');
      const cmd = `command:echo $$ > ${pids}; sleep 30 & echo $! >> ${pids}; wait`;
      const resolving = resolveAdminSecret(cmd, 'db', deps());
      const alive = (pid: number) => {
        try {
          process.kill(pid, 0);
          return true;
        } catch {
          return false;
        }
      };
      let list: number[] = [];
      while (list.length < 2) {
        await new Promise((r) => setTimeout(r, 20));
        list = (await readFile(pids, 'utf8').catch(() => '')).trim().split('\n').filter(Boolean).map(Number);
      }
      expect(endSecretCommands()).toBe(1);
      const err = await failure(resolving);
      expect(err.message).toBe('admin password command was killed by SIGKILL');
      // The shell was ours and is reaped; the sleep it started was in its group.
      expect(alive(list[0]!)).toBe(false);
      let sleepGone = false;
      for (let i = 0; i < 100 && !sleepGone; i++) {
        sleepGone = !alive(list[1]!);
        if (!sleepGone) await new Promise((r) => setTimeout(r, 20));
      }
      expect(sleepGone).toBe(true);
      expect(endSecretCommands()).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
