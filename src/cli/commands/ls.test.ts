import { describe, expect, it } from 'vitest';
import type { DatabaseConfig } from '../../policy/types.js';
import { databaseJson, databaseRows, describeGrant } from './ls.js';

const db: DatabaseConfig = {
  name: 'ci-db',
  engine: 'postgres',
  host: 'ci.internal',
  port: 6432,
  database: 'app',
  tls: 'verify-full',
  admin: { user: 'jit_admin', password: 'keychain' },
  roles: {
    migrator: {
      name: 'migrator',
      ttlMs: 600_000,
      maxTtlMs: 5_400_000,
      requireReason: false,
      connectionLimit: -1,
      grants: [
        { privileges: ['SELECT', 'INSERT'], tables: [{ schema: 'public', name: 'orders' }] },
        { privileges: ['USAGE'], sequences: [{ schema: 'public', name: 'orders_id_seq' }] },
      ],
      memberOf: ['app_owner'],
    },
  },
};

describe('ls', () => {
  it('describes tables, schemas and sequences', () => {
    expect(describeGrant({ privileges: ['SELECT'], schema: 'reporting' })).toBe('SELECT on schema reporting');
    expect(describeGrant(db.roles.migrator!.grants[1]!)).toBe('USAGE on sequences public.orders_id_seq');
  });

  it('one row per role, grants and memberships in one cell', () => {
    expect(databaseRows([db])).toEqual([
      ['DATABASE', 'ENGINE', 'HOST', 'ROLE', 'TTL', 'MAX TTL', 'REASON', 'GRANTS'],
      ['ci-db', 'postgres', 'ci.internal:6432/app', 'migrator', '10m', '1h30m', '-', 'SELECT, INSERT on public.orders; USAGE on sequences public.orders_id_seq; member of app_owner'],
    ]);
  });

  it('--json never carries the admin credential source', () => {
    const j = databaseJson(db);
    expect(JSON.stringify(j)).not.toMatch(/keychain|jit_admin/);
    expect((j.roles as Array<Record<string, unknown>>)[0]!.grants).toEqual([
      { privileges: ['SELECT', 'INSERT'], tables: ['public.orders'] },
      { privileges: ['USAGE'], sequences: ['public.orders_id_seq'] },
    ]);
  });
});
