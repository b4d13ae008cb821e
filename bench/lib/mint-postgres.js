/** The PostgreSQL 15 part of the mint benchmark (bench/mint.js): a throwaway cluster, bare node+pg. */
import { join } from 'node:path';
import { startCluster } from '../../test/helpers/pg-cluster.js';
import { benchPolicy } from './policy.js';
import { ROOT } from './mint-bench.js';

const FIXTURES = `
CREATE TABLE public.orders (id int PRIMARY KEY, customer_id int, total numeric(10,2));
CREATE TABLE public.customers (id int PRIMARY KEY, name text);
INSERT INTO public.orders VALUES (1, 1, 10.00);
INSERT INTO public.customers VALUES (1, 'Ada');
`;

/** Drop the roles `where` selects (rolname of pg_roles r); their names. */
async function dropRoles(pg, where) {
  const admin = await pg.admin();
  try {
    const { rows } = await admin.query(`SELECT r.rolname FROM pg_roles r WHERE ${where}`);
    for (const { rolname } of rows) {
      const id = admin.escapeIdentifier(rolname);
      await admin.query(`DROP OWNED BY ${id}; DROP ROLE ${id}`);
    }
    return rows.map((r) => r.rolname);
  } finally {
    await admin.end();
  }
}

/** @type {import('./mint-bench.js').MintBenchEngine} */
export const postgresMint = {
  name: 'PostgreSQL 15',
  prefix: 'jit-bench-',
  start: () => startCluster({ fixtureSql: FIXTURES, prefix: 'jit-bench-pg-' }),
  policy: (pg) => benchPolicy(pg.port, { name: 'readonly', ttl: '15m', tables: ['public.orders', 'public.customers'] }),
  bare: (pg) => ({
    label: 'bare node+pg',
    script: join(ROOT, 'bench', 'lib', 'bare-mint.js'),
    env: { BARE_HOST: pg.host, BARE_PORT: String(pg.port), BARE_DATABASE: pg.database, BARE_ADMIN_USER: pg.adminUser },
  }),
  uri: /^postgresql:\/\/\S+\n$/,
  dropBare: (pg) => dropRoles(pg, "starts_with(r.rolname, 'bare_')"),
  dropJitSurvivors: (pg) =>
    dropRoles(pg, "EXISTS (SELECT 1 FROM pg_auth_members m JOIN pg_roles j ON j.oid = m.roleid WHERE m.member = r.oid AND j.rolname = 'jit')"),
  note: 'PostgreSQL 15 (fsync=off), SCRAM over TCP on 127.0.0.1',
};
