import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPolicy } from './load.js';
import { readCachedPolicy } from './cache.js';

const POLICY = `version: 1
databases:
  prod-db:
    engine: postgres
    host: db.internal
    database: app
    admin: { user: jit_admin }
    roles:
      readonly:
        grants:
          - privileges: [SELECT]
            tables: [orders]
`;

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jit-cache-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('policy cache', () => {
  it('serves the validated policy again for the same text, and misses on any change', async () => {
    const file = join(dir, 'jit.yaml');
    const cacheDir = join(dir, 'state');
    await writeFile(file, POLICY);
    const first = await loadPolicy({ flag: file, env: {}, cwd: dir, cacheDir });
    expect((await stat(join(cacheDir, 'policy-cache.json'))).mode & 0o777).toBe(0o600);
    const cached = await readCachedPolicy(cacheDir, file, POLICY);
    expect(cached).toEqual(JSON.parse(JSON.stringify(first)));
    // Lookups by user-typed names stay safe: no Object.prototype behind databases and roles.
    expect((cached!.databases as Record<string, unknown>)['toString']).toBeUndefined();
    expect((cached!.databases['prod-db']!.roles as Record<string, unknown>)['constructor']).toBeUndefined();
    expect(await readCachedPolicy(cacheDir, file, POLICY.replace('[orders]', '[orders, customers]'))).toBeNull();
    expect(await readCachedPolicy(cacheDir, join(dir, 'other.yaml'), POLICY)).toBeNull();
  });

  it('an invalid policy is never cached, and a fixed file is validated afresh', async () => {
    const file = join(dir, 'jit.yaml');
    const cacheDir = join(dir, 'state');
    await writeFile(file, POLICY.replace('[SELECT]', '[SUPERUSER]'));
    await expect(loadPolicy({ flag: file, env: {}, cwd: dir, cacheDir })).rejects.toThrow(/SUPERUSER/);
    expect(await readCachedPolicy(cacheDir, file, POLICY.replace('[SELECT]', '[SUPERUSER]'))).toBeNull();
    await writeFile(file, POLICY);
    expect((await loadPolicy({ flag: file, env: {}, cwd: dir, cacheDir })).databases['prod-db']!.roles.readonly!.grants).toHaveLength(1);
  });
});
