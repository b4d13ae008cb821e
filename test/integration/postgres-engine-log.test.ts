/**
 * What the Postgres engine sends reaches the server's statement log: never a plaintext password.
 * Its own file: log_statement is a server setting, so this needs the server to itself.
 */
import { readFile, stat } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import type { MintRequest } from '../../src/engines/engine.js';
import { generatePassword, randomLowerAlnum } from '../../src/core/random.js';
import { postgresEngine } from '../../src/engines/postgres/postgres-engine.js';
import { usePostgres } from '../helpers/servers.js';

const logged = usePostgres(15, { exclusive: true });
let logStart = 0;

beforeAll(async () => {
  await logged.configure({ log_statement: 'all' });
  logStart = (await stat(logged.logFile)).size;
});

function request(): MintRequest {
  const now = Date.now();
  return {
    login: `jit_test_${randomLowerAlnum(12)}`,
    password: generatePassword(),
    expiresAt: new Date(now + 900_000),
    grants: [{ privileges: ['SELECT'], tables: [{ schema: 'public', name: 'orders' }] }],
    memberOf: [],
    connectionLimit: -1,
    marker: {
      id: randomLowerAlnum(10),
      database: 'test-db',
      role: 'readonly',
      requester: 'tester',
      requester_host: 'ci',
      created_at: new Date(now).toISOString(),
      expires_at: new Date(now + 900_000).toISOString(),
      max_expires_at: new Date(now + 3_600_000).toISOString(),
    },
  };
}

describe('secrets', () => {
  it('the plaintext password never reaches the server log, even with log_statement=all', async () => {
    const s = await postgresEngine.connectAdmin(logged.target(), logged.adminPassword);
    try {
      const req = request();
      await s.mint(req);
      const failing = request();
      failing.grants = [{ privileges: ['SELECT'], tables: [{ schema: 'public', name: 'nope' }] }];
      await s.mint(failing).catch(() => {});
      const c = await logged.connectAs(req.login, req.password);
      await c.end();
      await s.revoke({ login: req.login });
      const log = (await readFile(logged.logFile)).subarray(logStart).toString('utf8');
      expect(log).toContain('SCRAM-SHA-256$4096:');
      expect(log).toContain('CREATE ROLE');
      for (const pw of [req.password, failing.password, logged.adminPassword]) {
        expect(log).not.toContain(pw);
        expect(log).not.toContain(encodeURIComponent(pw));
      }
    } finally {
      await s.close();
    }
  });
});
