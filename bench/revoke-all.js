#!/usr/bin/env node
/**
 * `node bench/revoke-all.js` (after a build): how long on-call's kill switch `jit revoke --all
 * --yes` takes over many logins with open sessions, and how soon every login is blocked. A
 * measurement, not a test: exit 0 whatever the numbers, non-zero only when a run failed.
 *
 * For N = 100, 500, 1000 logins (jit-shaped: members of the `jit` marker role, a lease comment,
 * SELECT on a table) with N/5 of them holding an open session:
 *   jit       `node bin/jit.js revoke --all --yes`, spawn to exit.
 *   baseline  the same work in this process over one bare pg session (connect included): block
 *             all in one transaction, signal all sessions in one query, wait once, DROP OWNED
 *             and DROP ROLE in batches of 100. Same server, same run, alternating order.
 * "blocked" is the time from start until a poller (every 10 ms, its own session) sees no marked
 * role that can still log in. Targets: jit within 1.3x of the baseline at N = 1000; every login
 * blocked within 1 s of the start. `--groups`: the logins are members of one group role holding
 * the SELECT, as jit mints them now, instead of each holding it (as before, and with `--only`).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { startCluster } from '../test/helpers/pg-cluster.js';
import { timedRun } from './lib/timed-run.js';
import { median } from './lib/stats.js';
import { benchPolicy } from './lib/policy.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const JIT = join(ROOT, 'bin', 'jit.js');
const SIZES = [100, 500, 1000];
const ROUNDS = { 100: 1, 500: 1, 1000: 2 };
const TARGET_RATIO = 1.3;
const TARGET_BLOCKED_MS = 1000;
const BATCH = 100;
const PASSWORD = 'bench-login-password';
const GROUPS = process.argv.includes('--groups');
const FIXTURES =
  `CREATE TABLE public.orders (id int PRIMARY KEY, total numeric(10,2)); INSERT INTO public.orders VALUES (1, 10.00); ` +
  `CREATE ROLE jitgroup_expiring_bench NOLOGIN; GRANT SELECT ON public.orders TO jitgroup_expiring_bench;`;

const log = (line) => process.stderr.write(`${line}\n`);
const ms = (v) => `${Math.round(v)} ms`;
const q = (name) => pg.escapeIdentifier(name);
const lit = (s) => pg.escapeLiteral(s);
const chunks = (list, n) => Array.from({ length: Math.ceil(list.length / n) }, (_, i) => list.slice(i * n, i * n + n));

const MARKED = `FROM pg_catalog.pg_roles r JOIN pg_catalog.pg_auth_members m ON m.member = r.oid JOIN pg_catalog.pg_roles j ON j.oid = m.roleid AND j.rolname = 'jit'`;

/** N marked logins, `sessions` of them connected. Returns the names and the open clients. */
async function setup(cluster, n, sessions, round) {
  const admin = await cluster.admin();
  const logins = Array.from({ length: n }, (_, i) => `jit_bench_${round}_${String(i).padStart(4, '0')}`);
  try {
    await admin.query(`DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'jit') THEN CREATE ROLE jit NOLOGIN; END IF; END $$`);
    const now = new Date();
    for (const batch of chunks(logins, 100)) {
      const sql = batch.flatMap((l, i) => {
        const marker = { id: `bench${round}${i}`.padEnd(10, '0'), database: 'bench', role: 'expiring', requester: 'bench', requester_host: 'bench', created_at: now.toISOString(), expires_at: new Date(+now + 3_600_000).toISOString(), max_expires_at: new Date(+now + 3_600_000).toISOString() };
        return [
          `CREATE ROLE ${q(l)} LOGIN PASSWORD ${lit(PASSWORD)} VALID UNTIL ${lit(new Date(+now + 3_600_000).toISOString())}`,
          `COMMENT ON ROLE ${q(l)} IS ${lit(JSON.stringify(marker))}`,
          `GRANT jit TO ${q(l)}`,
          GROUPS ? `GRANT jitgroup_expiring_bench TO ${q(l)}` : `GRANT SELECT ON public.orders TO ${q(l)}`,
        ];
      });
      await admin.query(sql.join(';\n'));
    }
  } finally {
    await admin.end();
  }
  const open = [];
  for (const batch of chunks(logins.slice(0, sessions), 20)) open.push(...(await Promise.all(batch.map((l) => cluster.connect(l, PASSWORD, 'app')))));
  return { logins, open };
}

/** Polls until no marked role can log in; resolves with ms since `t0`. */
function watchBlocked(poller, t0) {
  let stop = false;
  const done = (async () => {
    while (!stop) {
      const { rows } = await poller.query(`SELECT count(*)::int AS n ${MARKED} WHERE r.rolcanlogin`);
      if (rows[0].n === 0) return performance.now() - t0;
      await new Promise((r) => setTimeout(r, 10));
    }
    return NaN;
  })();
  return { done, cancel: () => (stop = true) };
}

/** The baseline: the batched protocol over one bare session. */
async function bare(cluster, logins) {
  const c = new pg.Client({ host: '127.0.0.1', port: cluster.port, user: 'postgres', password: cluster.adminPassword, database: 'app' });
  await c.connect();
  try {
    const { rows } = await c.query('SELECT oid::int8 AS oid FROM pg_roles WHERE rolname = ANY($1::text[])', [logins]);
    const oids = rows.map((r) => r.oid);
    await c.query(['BEGIN', ...logins.map((l) => `ALTER ROLE ${q(l)} NOLOGIN`), 'COMMIT'].join(';\n'));
    await c.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usesysid = ANY($1::oid[]) AND pid <> pg_backend_pid()', [oids]);
    for (;;) {
      const left = await c.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE usesysid = ANY($1::oid[])', [oids]);
      if (left.rows[0].n === 0) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    for (const b of chunks(logins, BATCH)) await c.query(`DROP OWNED BY ${b.map(q).join(', ')}`);
    for (const b of chunks(logins, BATCH)) await c.query(`DROP ROLE ${b.map(q).join(', ')}`);
  } finally {
    await c.end();
  }
}

async function measure(cluster, env, work, variant, n, round) {
  const { logins, open } = await setup(cluster, n, Math.floor(n / 5), `${variant[0]}${n}${round}`);
  const poller = await cluster.admin();
  try {
    const t0 = performance.now();
    const watch = watchBlocked(poller, t0);
    if (variant === 'jit') {
      const res = await timedRun([process.execPath, JIT, 'revoke', '--all', '--yes'], { env, cwd: work, timeoutMs: 120_000 });
      if (res.code !== 0) throw new Error(`jit revoke --all failed (${res.code}): ${res.stderr.trim().split('\n').slice(-3).join(' / ')}`);
    } else {
      await bare(cluster, logins);
    }
    const totalMs = performance.now() - t0;
    const blockedMs = await watch.done;
    const left = await poller.query(`SELECT count(*)::int AS n ${MARKED}`);
    if (left.rows[0].n !== 0) throw new Error(`${variant}: ${left.rows[0].n} marked login(s) left`);
    return { totalMs, blockedMs };
  } finally {
    await poller.end();
    await Promise.all(open.map((c) => c.end().catch(() => {})));
  }
}

async function main() {
  if (!existsSync(join(ROOT, 'dist', 'main.js'))) throw new Error('dist/ is missing: run `npm run build` first');
  const t0 = Date.now();
  const cluster = await startCluster({ fixtureSql: FIXTURES, prefix: 'jit-bench-pg-', maxConnections: 300 });
  const work = await mkdtemp(join(tmpdir(), 'jit-bench-revoke-all-'));
  try {
    log(`PostgreSQL 15 on 127.0.0.1:${cluster.port} ready in ${Date.now() - t0} ms`);
    const policyFile = join(work, 'jit.yaml');
    await writeFile(policyFile, benchPolicy(cluster.port, { name: 'expiring', ttl: '30s', tables: ['public.orders'] }));
    const env = { PATH: process.env.PATH, HOME: work, LANG: 'C.UTF-8', NO_COLOR: '1', JIT_HOME: join(work, 'state'), JIT_POLICY: policyFile, JIT_BENCH_ADMIN_PW: cluster.adminPassword, JIT_REQUESTER: 'bench', JIT_NO_REAPER: '1' };
    const results = {};
    for (const n of SIZES) {
      results[n] = { jit: [], bare: [] };
      for (let r = 0; r < ROUNDS[n]; r++) {
        for (const variant of r % 2 ? ['bare', 'jit'] : ['jit', 'bare']) {
          const m = await measure(cluster, env, work, variant, n, r);
          results[n][variant].push(m);
          log(`  ${n} logins, ${n / 5} sessions, ${variant}: ${ms(m.totalMs)} (all blocked after ${ms(m.blockedMs)})`);
        }
      }
    }
    console.log(`revoke --all, N logins${GROUPS ? ' (members of a group role)' : ' (each granted SELECT)'} with N/5 open sessions (jit: spawn to exit; baseline: one bare pg session, batched, connect included):`);
    for (const n of SIZES) {
      const med = (v, k) => median(results[n][v].map((m) => m[k]));
      console.log(
        `  N=${String(n).padEnd(5)} jit ${ms(med('jit', 'totalMs'))}, baseline ${ms(med('bare', 'totalMs'))}, ratio ${(med('jit', 'totalMs') / med('bare', 'totalMs')).toFixed(2)}x;` +
          `  all blocked after: jit ${ms(med('jit', 'blockedMs'))}, baseline ${ms(med('bare', 'blockedMs'))}  (n=${results[n].jit.length})`,
      );
    }
    const big = SIZES[SIZES.length - 1];
    const ratio = median(results[big].jit.map((m) => m.totalMs)) / median(results[big].bare.map((m) => m.totalMs));
    const blocked = median(results[big].jit.map((m) => m.blockedMs));
    console.log(`  N=${big}: ratio ${ratio.toFixed(2)}x, target <= ${TARGET_RATIO}x: ${ratio <= TARGET_RATIO ? 'met' : 'MISSED'}; every login blocked after ${ms(blocked)}, target <= ${ms(TARGET_BLOCKED_MS)}: ${blocked <= TARGET_BLOCKED_MS ? 'met' : 'MISSED'}`);
    const per = (n) => median(results[n].jit.map((m) => m.totalMs)) / n;
    console.log(`  growth (jit ms per login): ${SIZES.map((n) => `N=${n} ${per(n).toFixed(2)}`).join(', ')}`);
    log(`total ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return 0;
  } finally {
    await cluster.stop();
    await rm(work, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`bench failed: ${err.stack ?? err}\n`);
    process.exit(1);
  },
);
