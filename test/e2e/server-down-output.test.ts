import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { JIT_BIN } from '../helpers/jit-cli.js';
import { freePort } from '../helpers/free-port.js';
import { removeTestDir } from '../helpers/processes.js';

// Two policy databases on one server that is down: server-wide commands say so once, naming
// both, and print no empty table.

const run = promisify(execFile);
let dir: string;

async function jit(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { PATH: process.env.PATH, JIT_HOME: join(dir, 'home'), JIT_POLICY: join(dir, 'jit.yaml'), JIT_NO_REAPER: '1', DOWN_PW: 'x' };
  try {
    const { stdout, stderr } = await run(process.execPath, [JIT_BIN, ...args], { env });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jit-down-'));
  const port = await freePort();
  const db = (name: string, database: string) => `  ${name}:
    engine: postgres
    host: 127.0.0.1
    port: ${port}
    database: ${database}
    tls: disable
    admin:
      user: postgres
      password: env:DOWN_PW
    roles:
      readonly:
        grants:
          - privileges: [SELECT]
            tables: [orders]
`;
  await writeFile(join(dir, 'jit.yaml'), `version: 1\ndatabases:\n${db('app-db', 'app')}${db('reports-db', 'reports')}`, { mode: 0o600 });
});
afterAll(async () => {
  await removeTestDir(dir);
});

describe('a server that is down, behind two policy databases', () => {
  for (const command of [['list', '--all'], ['sessions']]) {
    it(`${command.join(' ')}: one error line naming both, no table, exit 1`, async () => {
      const r = await jit(command);
      expect(r.code).toBe(1);
      const errors = r.stderr.split('\n').filter((l) => l.startsWith('error:'));
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(/^error: app-db, reports-db: cannot reach PostgreSQL at 127\.0\.0\.1:\d+/);
      expect(r.stdout).toBe('');
    });
  }
});
