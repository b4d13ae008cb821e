/**
 * The baseline: the least a Node tool must do for what `jit uri DB --role readonly` gives you.
 * Import `pg`, log in as the admin with SCRAM, send ONE simple-query string (create the login
 * with a client-computed SCRAM verifier, grant, comment, in one transaction), print a URI, exit.
 * No policy, no lease file, no audit log, no reaper: the floor jit is measured against.
 *
 * Config from the environment: BARE_HOST, BARE_PORT, BARE_DATABASE, BARE_ADMIN_USER,
 * JIT_BENCH_ADMIN_PW. Logins are named `bare_<random>` (never `jit_`: that prefix is jit's).
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import pg from 'pg';

const { BARE_HOST: host, BARE_PORT: port, BARE_DATABASE: database, BARE_ADMIN_USER: adminUser, JIT_BENCH_ADMIN_PW: adminPassword } = process.env;

function scramVerifier(password) {
  const salt = randomBytes(16);
  const salted = pbkdf2Sync(password, salt, 4096, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$4096:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

const login = `bare_${randomBytes(12).toString('hex')}`;
const password = randomBytes(32).toString('base64url');
const expires = new Date(Date.now() + 5 * 60_000);
const marker = { id: randomBytes(8).toString('hex'), role: 'readonly', requester: 'bench', expires_at: expires.toISOString() };
const L = pg.escapeIdentifier(login);

const sql = [
  'BEGIN',
  `CREATE ROLE ${L} LOGIN PASSWORD ${pg.escapeLiteral(scramVerifier(password))} VALID UNTIL ${pg.escapeLiteral(expires.toISOString().replace('Z', '+00'))} CONNECTION LIMIT 5`,
  `GRANT CONNECT ON DATABASE ${pg.escapeIdentifier(database)} TO ${L}`,
  `GRANT USAGE ON SCHEMA public TO ${L}`,
  `GRANT SELECT ON public.orders, public.customers TO ${L}`,
  `COMMENT ON ROLE ${L} IS ${pg.escapeLiteral(JSON.stringify(marker))}`,
  'COMMIT',
].join(';\n');

const client = new pg.Client({ host, port: Number(port), database, user: adminUser, password: adminPassword, ssl: false });
await client.connect();
try {
  await client.query(sql);
} finally {
  await client.end();
}
process.stdout.write(`postgresql://${encodeURIComponent(login)}:${encodeURIComponent(password)}@${host}:${port}/${encodeURIComponent(database)}?sslmode=disable\n`);
