/** The MariaDB 10.11 part of the mint benchmark (bench/mint-mysql.js): a throwaway server, bare node+mysql2. */
import { join } from 'node:path';
import { startMariadbCluster } from '../../test/helpers/mariadb-cluster.js';
import { benchPolicy } from './policy.js';
import { ROOT } from './mint-bench.js';

const FIXTURES = `
CREATE DATABASE app;
CREATE TABLE app.orders (id int PRIMARY KEY, customer_id int, total decimal(10,2));
CREATE TABLE app.customers (id int PRIMARY KEY, name text);
INSERT INTO app.orders VALUES (1, 1, 10.00);
INSERT INTO app.customers VALUES (1, 'Ada');
`;

/** ER_NO_SUCH_TABLE, ER_BAD_DB_ERROR: no ledger yet (nothing was minted). */
const NO_LEDGER = new Set([1146, 1049]);

/**
 * Drop the accounts whose name starts with `prefix`, their ledger rows and expiry events, as
 * root; their names.
 */
async function dropAccounts(m, prefix) {
  const root = await m.admin();
  try {
    const [users] = await root.query('SELECT DISTINCT User AS login FROM mysql.user WHERE LEFT(User, ?) = ?', [prefix.length, prefix]);
    const [accounts] = await root.query('SELECT User AS login, Host AS host FROM mysql.user WHERE LEFT(User, ?) = ?', [prefix.length, prefix]);
    for (const a of accounts) await root.query('DROP USER IF EXISTS ?@?', [a.login, a.host]);
    const [events] = await root.query(
      "SELECT EVENT_NAME AS name FROM information_schema.EVENTS WHERE EVENT_SCHEMA = 'jit' AND LEFT(EVENT_NAME, ?) = ?",
      [prefix.length + 7, `expire_${prefix}`],
    );
    for (const e of events) await root.query(`DROP EVENT IF EXISTS jit.${mysqlId(e.name)}`);
    await root.query('DELETE FROM jit.leases WHERE LEFT(login, ?) = ?', [prefix.length, prefix]).catch((err) => {
      if (!NO_LEDGER.has(err.errno)) throw err;
    });
    return users.map((u) => String(u.login));
  } finally {
    await root.end();
  }
}

const mysqlId = (name) => '`' + String(name).replace(/`/g, '``') + '`';

/** @type {import('./mint-bench.js').MintBenchEngine} */
export const mariadbMint = {
  name: 'MariaDB 10.11',
  prefix: 'jit-bench-my-',
  start: () => startMariadbCluster({ fixtureSql: FIXTURES, prefix: 'jit-bench-mariadb-' }),
  policy: (m) => benchPolicy(m.port, { name: 'readonly', ttl: '15m', tables: ['app.orders', 'app.customers'] }, { engine: 'mysql', adminUser: m.adminUser }),
  bare: (m) => ({
    label: 'bare node+mysql2',
    script: join(ROOT, 'bench', 'lib', 'bare-mint-mysql.js'),
    env: { BARE_HOST: m.host, BARE_PORT: String(m.port), BARE_DATABASE: m.database, BARE_ADMIN_USER: m.adminUser },
  }),
  uri: /^mysql:\/\/\S+\n$/,
  dropBare: (m) => dropAccounts(m, 'bare_'),
  dropJitSurvivors: (m) => dropAccounts(m, 'jit_'),
  note: 'MariaDB 10.11 (innodb_flush_log_at_trx_commit=0, no binlog), mysql_native_password over TCP on 127.0.0.1',
};
