/**
 * Text others wrote (another user's `--reason`, a session's query, a hostile policy key) must
 * reach the reader's terminal escaped: no raw ESC/OSC sequence, CR or bidi override.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { usePostgres } from '../helpers/servers.js';
import { makeWorld, type JitWorld } from '../helpers/jit-cli.js';
import { mintUri, openSession } from './support.js';

// Clear the screen, set the window title (OSC), overwrite the line with a fake "all clear",
// then reverse the rest of the line (RLO) and isolate (LRI … PDI).
const HOSTILE = 'fix\u001b[2J\u001b]0;owned\u0007\rall clear\u202elanif\u202c\u2066x\u2069\u009b2J\u007f';
// eslint-disable-next-line no-control-regex
const RAW = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

const server = usePostgres(15);
let w: JitWorld;

beforeAll(async () => {
  w = await makeWorld(server);
});

afterAll(async () => {
  await w?.cleanup().catch(() => {});
});

describe('terminal escapes in data others wrote', () => {
  it('list --all shows a hostile --reason escaped, in the table and in --json', async () => {
    const lease = await mintUri(w, ['--role', 'support', '--reason', HOSTILE]);
    const table = await w.run(['list', '--all']);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toContain(lease.user);
    expect(table.stdout).not.toMatch(RAW);
    expect(table.stdout).toContain('fix\\e[2J\\e]0;owned\\u0007\\rall clear\\u202elanif\\u202c\\u2066x\\u2069\\u009b2J\\u007f');

    const json = await w.run(['list', '--all', '--json']);
    expect(json.stdout).not.toMatch(RAW);
    const rows = JSON.parse(json.stdout) as Array<{ user: string; reason: string }>;
    expect(rows.find((r) => r.user === lease.user)?.reason).toBe(HOSTILE);

    const audit = await w.run(['audit']);
    expect(audit.stdout).not.toMatch(RAW);
    expect(audit.stdout).toContain('\\u202elanif');
  });

  it('sessions shows a hostile query text escaped, in the table and in --json', async () => {
    const lease = await mintUri(w, ['--role', 'readonly']);
    const s = await openSession(lease.uri);
    try {
      await s.query(`SELECT 1 AS "${HOSTILE.replace(/"/g, '')}"`);
      const table = await w.run(['sessions']);
      expect(table.code, table.stderr).toBe(0);
      expect(table.stdout).toContain(lease.user);
      expect(table.stdout).not.toMatch(RAW);
      expect(table.stdout).toContain('\\e[2J\\e]0;owned');

      const json = await w.run(['sessions', '--json']);
      expect(json.stdout).not.toMatch(RAW);
      const rows = JSON.parse(json.stdout) as Array<{ user: string; query: string }>;
      expect(rows.find((r) => r.user === lease.user)?.query).toContain(HOSTILE);
    } finally {
      await s.end();
    }
  });

  it('a policy error quoting a hostile YAML key shows it escaped', async () => {
    const file = join(w.home, 'hostile.yaml');
    await writeFile(
      file,
      'version: 1\ndatabases:\n  db:\n    engine: postgres\n    host: h\n    database: d\n    admin: {user: a}\n    roles:\n' +
        '      "r\\e[2J\\r\\u202eall clear":\n        grants: [{privileges: [SELECT], tables: [public.t]}]\n',
    );
    const res = await w.run(['policy', 'check', file]);
    expect(res.code).toBe(2);
    expect(res.stderr).not.toMatch(RAW);
    expect(res.stderr).toContain('"r\\u001b[2J\\r\\u202eall clear" is not a role name');
  });
});
