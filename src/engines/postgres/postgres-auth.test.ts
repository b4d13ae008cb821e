import { describe, expect, it } from 'vitest';
import pg from 'pg';
import { guardedAdminClient } from './postgres-auth.js';
import { adminClientConfig } from './postgres-engine.js';
import type { ServerTarget } from '../engine.js';

const target: ServerTarget = { engine: 'postgres', host: 'db.internal', port: 5432, database: 'app', tls: 'require', adminUser: 'jit_admin' };

describe('guardedAdminClient', () => {
  it('offers channel binding (SCRAM-SHA-256-PLUS) whenever TLS is on, and not without it', () => {
    const bound = (tls: ServerTarget['tls']) =>
      (guardedAdminClient(pg.Client, adminClientConfig({ ...target, tls }, 'pw'), 'scram-sha-256', 'x') as unknown as { enableChannelBinding: boolean }).enableChannelBinding;
    expect(bound('require')).toBe(true);
    expect(bound('verify-full')).toBe(true);
    expect(bound('disable')).toBe(false);
  });

  it('keeps the password out of the client object', () => {
    const c = guardedAdminClient(pg.Client, adminClientConfig(target, 'sekrit-pw'), 'scram-sha-256', 'x');
    expect(typeof (c as unknown as { password: unknown }).password).toBe('function');
    expect(JSON.stringify(c)).not.toContain('sekrit-pw');
  });
});
