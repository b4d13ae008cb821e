import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usePostgres } from '../helpers/servers.js';
import { postgresEngine } from '../../src/engines/postgres/postgres-engine.js';
import type { AdminSession } from '../../src/engines/engine.js';

// `jit admin test` / `jit doctor` must tell, before any mint, what the admin could not grant.

const pg = usePostgres(15);
let superuser: AdminSession;
let limited: AdminSession;

beforeAll(async () => {
  const c = await pg.admin();
  await c.query(`CREATE ROLE limited_admin LOGIN CREATEROLE PASSWORD 'limited-pw-123'`);
  await c.query('GRANT SELECT ON public.orders TO limited_admin WITH GRANT OPTION');
  await c.query('GRANT SELECT ON public.customers TO limited_admin');
  await c.query('GRANT USAGE ON SCHEMA reporting TO limited_admin WITH GRANT OPTION');
  await c.query('CREATE SCHEMA hidden; CREATE TABLE hidden.t (x int); GRANT USAGE ON SCHEMA hidden TO limited_admin');
  await c.query('GRANT SELECT ON hidden.t TO limited_admin WITH GRANT OPTION');
  await c.query('GRANT SELECT ON reporting.daily TO limited_admin WITH GRANT OPTION');
  await c.query(`CREATE ROLE "x""; DROP TABLE t; --" NOLOGIN`);
  await c.end();
  superuser = await postgresEngine.connectAdmin(pg.target(), pg.adminPassword);
  limited = await postgresEngine.connectAdmin(pg.target({ adminUser: 'limited_admin' }), 'limited-pw-123');
});
afterAll(async () => {
  await superuser?.close();
  await limited?.close();
});

const q = (schema: string, name: string) => ({ schema, name });

describe('checkGrants', () => {
  it('a superuser can grant everything that exists; what does not exist is named', async () => {
    expect(
      await superuser.checkGrants(
        [
          { privileges: ['SELECT', 'UPDATE'], tables: [q('public', 'orders'), q('public', 'a"b')] },
          { privileges: ['SELECT'], schema: 'reporting' },
          { privileges: ['USAGE'], sequences: [q('public', 'order_ids')] },
        ],
        ['analytics_ro', 'x"; DROP TABLE t; --'],
      ),
    ).toEqual([]);
    expect(
      await superuser.checkGrants(
        [
          { privileges: ['SELECT'], tables: [q('public', 'nope')] },
          { privileges: ['SELECT'], schema: 'nowhere' },
          { privileges: ['USAGE'], sequences: [q('public', 'no_seq')] },
        ],
        ['no_such_group'],
      ),
    ).toEqual([
      'table public.nope does not exist',
      'schema nowhere does not exist',
      'sequence public.no_seq does not exist',
      'group role no_such_group does not exist',
    ]);
  });

  it('an admin without GRANT OPTION is told which privilege on which table', async () => {
    expect(
      await limited.checkGrants(
        [
          { privileges: ['SELECT'], tables: [q('public', 'orders'), q('public', 'customers')] },
          { privileges: ['SELECT', 'UPDATE'], tables: [q('public', 'orders')] },
          { privileges: ['SELECT'], schema: 'reporting' },
          { privileges: ['SELECT'], tables: [q('hidden', 't')] },
        ],
        ['analytics_ro'],
      ),
    ).toEqual([
      'cannot grant SELECT on public.customers (no GRANT OPTION); fix: GRANT SELECT ON TABLE "public"."customers" TO "limited_admin" WITH GRANT OPTION',
      'cannot grant UPDATE on public.orders (no GRANT OPTION); fix: GRANT UPDATE ON TABLE "public"."orders" TO "limited_admin" WITH GRANT OPTION',
      'cannot grant SELECT on reporting.weekly (no GRANT OPTION); fix: GRANT SELECT ON ALL TABLES IN SCHEMA "reporting" TO "limited_admin" WITH GRANT OPTION',
      'cannot grant USAGE on schema hidden (no GRANT OPTION); fix: GRANT USAGE ON SCHEMA "hidden" TO "limited_admin" WITH GRANT OPTION',
    ]);
  });
});
