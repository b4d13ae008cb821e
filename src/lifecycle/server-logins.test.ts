import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AdminSession, RevokeRequest, RevokeResult } from '../engines/engine.js';
import type { LeaseDeps } from './context.js';
import { LeaseStore } from '../leases/lease-store.js';
import { AuditLog } from '../leases/audit-log.js';
import { parsePolicy } from '../policy/parse.js';
import { revokeFound, type DatabaseLogins } from './server-logins.js';

// `revoke --all --yes` and `reap` revoke in the admin session that listed the logins: one login
// to each server, not two. Two policy databases on one server share that session, so their
// batches must run one after the other (a session runs one transaction at a time).

const POLICY = `version: 1
databases:
  app:
    engine: postgres
    host: db.internal
    database: app
    tls: disable
    admin: { user: jit_admin, password: env:PW }
    roles: { r: { ttl: 5m, grants: [{ privileges: [SELECT], tables: [public.t] }] } }
  reports:
    engine: postgres
    host: db.internal
    database: reports
    tls: disable
    admin: { user: jit_admin, password: env:PW }
    roles: { r: { ttl: 5m, grants: [{ privileges: [SELECT], tables: [public.t] }] } }
`;

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

describe('revokeFound', () => {
  it('revokes in the session that listed the logins, one database of a server at a time', async () => {
    const root = await mkdtemp(join(tmpdir(), 'jit-server-logins-'));
    dirs.push(root);
    const policy = parsePolicy(POLICY, 'jit.yaml');
    let running = 0;
    let overlapped = false;
    const calls: string[][] = [];
    const session = {
      async revokeMany(reqs: RevokeRequest[]): Promise<RevokeResult[]> {
        running++;
        overlapped ||= running > 1;
        calls.push(reqs.map((r) => r.login));
        await new Promise((r) => setTimeout(r, 20));
        running--;
        return reqs.map((r) => ({ login: r.login, gone: true, terminated: 0, errors: [] }));
      },
      async close() {},
    } as unknown as AdminSession;
    const deps: LeaseDeps = {
      env: {},
      now: () => Date.now(),
      leases: new LeaseStore(join(root, 'state')),
      audit: new AuditLog(join(root, 'state')),
      requester: { user: 'alice', host: 'laptop' },
      keychain: () => Promise.reject(new Error('no keychain here')),
      // A new admin session would need the engine: none may be opened.
      engine: () => Promise.reject(new Error('opened a second admin session')),
    };
    const found: DatabaseLogins[] = [
      { db: policy.databases.app!, logins: [{ login: 'jit_alice_a' }, { login: 'jit_alice_b' }] as DatabaseLogins['logins'], session },
      { db: policy.databases.reports!, logins: [{ login: 'jit_alice_c' }] as DatabaseLogins['logins'], session },
    ];
    const outcomes = await revokeFound(found, (f) => f.logins, 'revoke-all', deps);
    expect(outcomes.map((o) => [o.database, o.login, o.ok])).toEqual([
      ['app', 'jit_alice_a', true],
      ['app', 'jit_alice_b', true],
      ['reports', 'jit_alice_c', true],
    ]);
    expect(calls).toEqual([['jit_alice_a', 'jit_alice_b'], ['jit_alice_c']]);
    expect(overlapped).toBe(false);
  });
});
