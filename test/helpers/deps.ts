import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { Deps } from '../../src/cli/deps.js';
import type { IO } from '../../src/cli/io.js';
import { systemDeps } from '../../src/cli/deps.js';
import { NO_REAPER } from '../../src/lifecycle/context.js';
import { JIT_BIN, testPolicy } from './jit-cli.js';
import type { PgServer } from './pg-server.js';

/** An IO whose streams are strings, never a terminal. */
export function bufferIO(): IO & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    stdin: new PassThrough(),
    stdinIsTTY: false,
    stdoutIsTTY: false,
    stderrIsTTY: false,
    color: false,
    json: false,
    quiet: false,
    debug: false,
    out: () => out,
    err: () => err,
  };
}

/** Real Deps against a test server, in a temp state directory, with parts swapped by the test. */
export async function testDeps(pg: PgServer, overrides: Partial<Deps> = {}, policy?: string): Promise<Deps & { io: ReturnType<typeof bufferIO> }> {
  const dir = await mkdtemp(join(tmpdir(), 'jit-deps-'));
  const policyFile = join(dir, 'jit.yaml');
  await writeFile(policyFile, policy ?? testPolicy(pg));
  const io = bufferIO();
  const env = { PATH: process.env.PATH, HOME: dir, JIT_HOME: join(dir, 'state'), JIT_TEST_ADMIN_PW: pg.adminPassword, JIT_REQUESTER: 'tester', JIT_REAPER_LINGER: '3s' };
  const deps = systemDeps({ io, env, cwd: dir, policyFlag: policyFile, entryScript: JIT_BIN });
  return { ...deps, startReaper: false, reaper: NO_REAPER, ...overrides, io } as Deps & { io: ReturnType<typeof bufferIO> };
}
