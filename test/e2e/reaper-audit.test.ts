import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { usePostgres } from '../helpers/servers.js';
import { makeWorld, type JitWorld } from '../helpers/jit-cli.js';
import { sleep } from './support.js';

// `jit exec` revokes its own login when the child exits and removes the lease file. The reaper,
// which was handed that lease, then sees the file gone with its owner dead: it must ask the
// server before treating it as due, not revoke it again and write a second `revoke` record.

const pg = usePostgres(15);
let w: JitWorld;

beforeAll(async () => {
  w = await makeWorld(pg);
});
afterAll(async () => {
  await w?.cleanup();
});

describe('the audit trail of a login jit exec revoked itself', () => {
  it('holds exactly one revoke record per lease, none from the reaper', async () => {
    // A live lease keeps the reaper running through the execs below.
    const keep = await w.run(['uri', 'testdb', '--role', 'readonly', '--ttl', '10m']);
    expect(keep.code, keep.stderr).toBe(0);
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const r = await w.run(['exec', 'testdb', '--role', 'readonly', '--', 'true']);
      expect(r.code, r.stderr).toBe(0);
      ids.push(/^lease (\w+):/m.exec(r.stderr)![1]!);
    }
    // What is checked is something that must not happen: give the reaper several ticks (500 ms
    // each) to do it wrongly.
    await sleep(3_000);
    const records = (await readFile(join(w.home, 'audit.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string; lease?: string; cause?: string });
    for (const id of ids) {
      expect(records.filter((r) => r.lease === id && r.event === 'revoke').map((r) => r.cause), id).toEqual(['exit']);
    }
    expect((await w.run(['revoke', /^lease (\w+):/m.exec(keep.stderr)![1]!])).code).toBe(0);
  });
});
