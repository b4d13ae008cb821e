import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { JIT_BIN } from '../helpers/jit-cli.js';
import { removeTestDir } from '../helpers/processes.js';

// Every FAIL line of `jit doctor` says how to fix it: the hint of the error behind it, or the
// command that fixes the check. No server is needed for these.

const run = promisify(execFile);
let dir: string;

async function doctor(env: NodeJS.ProcessEnv, json = false): Promise<{ code: number; stdout: string }> {
  try {
    const { stdout } = await run(process.execPath, [JIT_BIN, 'doctor', ...(json ? ['--json'] : [])], { env: { PATH: process.env.PATH, ...env } });
    return { code: 0, stdout };
  } catch (err) {
    const e = err as { code: number; stdout: string };
    return { code: e.code, stdout: e.stdout };
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jit-doctor-'));
  await writeFile(
    join(dir, 'jit.yaml'),
    `version: 1
databases:
  ci-db:
    engine: mysql
    host: 127.0.0.1
    database: app
    tls: disable
    admin:
      user: jit_admin
      password: env:JIT_DOCTOR_TEST_PW
    roles:
      readonly:
        grants:
          - privileges: [SELECT]
            tables: [orders]
`,
    { mode: 0o600 },
  );
});
afterAll(async () => {
  await removeTestDir(dir);
});

describe('jit doctor', () => {
  it('names the variable to set when an env: admin source is missing, and the chmod for a loose state directory', async () => {
    const home = join(dir, 'home');
    const first = await doctor({ JIT_HOME: home, JIT_POLICY: join(dir, 'jit.yaml'), JIT_NO_REAPER: '1' });
    expect(first.code).toBe(1);
    expect(first.stdout).toMatch(/^FAIL  ci-db: admin credential: environment variable JIT_DOCTOR_TEST_PW is not set\n {6}hint: export JIT_DOCTOR_TEST_PW=… /m);
    await chmod(home, 0o755);
    const loose = await doctor({ JIT_HOME: home, JIT_POLICY: join(dir, 'jit.yaml'), JIT_NO_REAPER: '1' }, true);
    const checks = JSON.parse(loose.stdout) as Array<{ name: string; ok: boolean; hint?: string }>;
    expect(checks.find((c) => c.name === 'ci-db: admin credential')).toMatchObject({ ok: false, hint: expect.stringMatching(/^export JIT_DOCTOR_TEST_PW=/) });
    expect(checks.find((c) => c.name === 'state directory')).toMatchObject({ ok: false, hint: `chmod 700 ${home}` });
    // Passing checks carry no hint.
    expect(checks.filter((c) => c.ok).every((c) => c.hint === undefined)).toBe(true);
  });
});
