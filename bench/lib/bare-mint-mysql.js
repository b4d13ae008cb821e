/**
 * The MariaDB baseline: the least a Node tool must do for what `jit uri DB --role readonly`
 * gives you there. Import `mysql2`, log in as the admin, send ONE multi-statement query holding
 * the statements jit's mint sends (the ledger row, the expiry event, CREATE USER with the
 * `*SHA1(SHA1())` hash, the table grants), print a URI, exit. The statements come from jit's own
 * builders (dist/engines/mysql/mysql-sql.js), so both sides send the same text; the ledger
 * already exists (jit creates it on first use). No policy, no lease file, no audit log, no
 * reaper, and none of jit's checks (name taken? anonymous accounts? server version? clock?):
 * the floor jit is measured against.
 *
 * Config from the environment: BARE_HOST, BARE_PORT, BARE_DATABASE, BARE_ADMIN_USER,
 * JIT_BENCH_ADMIN_PW. Logins are named `bare_<random>` (never `jit_`: that prefix is jit's).
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import mysql from 'mysql2/promise';
import { LEDGER_INSERT_SQL, createEventSql, createUserSql, grantSqls, utcDatetime } from '../../dist/engines/mysql/mysql-sql.js';
import { nativePasswordHash } from '../../dist/engines/mysql/mysql-password.js';

const { BARE_HOST: host, BARE_PORT: port, BARE_DATABASE: database, BARE_ADMIN_USER: adminUser, JIT_BENCH_ADMIN_PW: adminPassword } = process.env;

const login = `bare_${randomBytes(8).toString('hex')}`;
const password = randomBytes(32).toString('base64url');
const now = new Date();
const expires = new Date(now.getTime() + 5 * 60_000);
const hosts = ['%'];
const grants = [{ privileges: ['SELECT'], tables: [{ schema: database, name: 'orders' }, { schema: database, name: 'customers' }] }];

const sql = [
  // The event's AT and the ledger's DATETIMEs are UTC.
  "SET SESSION time_zone = '+00:00'",
  mysql.format(LEDGER_INSERT_SQL, [
    login, '%', randomBytes(5).toString('hex'), 'bench', 'readonly', 'bench', hostname(), null,
    utcDatetime(now), utcDatetime(expires), utcDatetime(new Date(now.getTime() + 3_600_000)),
  ]),
  createEventSql(login, hosts, expires),
  createUserSql({ login, hosts, auth: { kind: 'native-hash', hash: nativePasswordHash(password) }, connectionLimit: 5, requireSsl: false }),
  ...grantSqls(grants, login, hosts),
].join(';\n');

const conn = await mysql.createConnection({ host, port: Number(port), user: adminUser, password: adminPassword, database, multipleStatements: true });
try {
  await conn.query(sql);
} finally {
  await conn.end();
}
process.stdout.write(`mysql://${encodeURIComponent(login)}:${encodeURIComponent(password)}@${host}:${port}/${encodeURIComponent(database)}\n`);
