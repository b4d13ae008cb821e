#!/usr/bin/env node
/**
 * `node bench/expiry.js` (after a build): how late the detached reaper removes logins that fall
 * due together, and how much memory it holds with 1000 leases. A measurement, not a test: exit 0
 * whatever the numbers, non-zero only when a run failed.
 *
 * 1. Expiry lag. 200 `jit uri --role expiring` leases timed to fall due within ~1 s of each other,
 *    one reaper for all of them. pg_roles is polled every 50 ms; per login, lag = the first poll
 *    that no longer sees it − its expires_at. Target: p95 ≤ 1.5 s.
 *    Baseline, same run, same server: an admin session doing DROP OWNED + DROP ROLE for 200
 *    equivalent roles back to back — the raw cost of removing 50 logins. The ratio shows how
 *    much of the lag is the reaper's (tick, process, per-login revoke protocol) and not the drop.
 * 2. Reaper RSS. 1000 lease files (expiring in 1 h, pointing at a closed port) in a fresh
 *    JIT_HOME, `node bin/jit.js __reaper`, VmRSS after ~10 s, next to an idle
 *    `node -e "setInterval(()=>{},1000)"`. Target: < 80 MB.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { startCluster } from '../test/helpers/pg-cluster.js';
import { timedRun } from './lib/timed-run.js';
import { median, percentile } from './lib/stats.js';
import { alive, reaperPid, stopReaper } from './lib/reaper.js';
import { benchPolicy } from './lib/policy.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const JIT = join(ROOT, 'bin', 'jit.js');
const LEASES = 200;
const RSS_LEASES = 1000;
const CONCURRENCY = 6;
const POLL_MS = 50;
const TARGET_P95_MS = 1500;
const TARGET_RSS_MB = 80;

const FIXTURES = `CREATE TABLE public.orders (id int PRIMARY KEY, total numeric(10,2)); INSERT INTO public.orders VALUES (1, 10.00);`;

const policy = (port) => benchPolicy(port, { name: 'expiring', ttl: '30s', tables: ['public.orders'] });

const log = (line) => process.stderr.write(`${line}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const ms = (v) => `${Math.round(v)} ms`;

async function main() {
  if (!existsSync(join(ROOT, 'dist', 'main.js'))) throw new Error('dist/ is missing: run `npm run build` first');
  const t0 = Date.now();
  const pg = await startCluster({ fixtureSql: FIXTURES, prefix: 'jit-bench-pg-' });
  const work = await mkdtemp(join(tmpdir(), 'jit-bench-expiry-'));
  const homes = [];
  try {
    log(`PostgreSQL 15 on 127.0.0.1:${pg.port} ready in ${Date.now() - t0} ms`);
    const lag = await expiryLag(pg, work, homes);
    const drop = await bareDrop(pg);
    const rss = await reaperRss(work, homes);

    const lags = lag.lags;
    const reaperSpan = Math.max(...lag.goneAt) - Math.min(...lag.expiresAt);
    console.log(`expiry lag, ${LEASES} leases falling due within ${ms(lag.spread)} of each other (one reaper, pg_roles polled every ${POLL_MS} ms):`);
    console.log(`  p50 ${ms(median(lags))}   p95 ${ms(percentile(lags, 95))}   max ${ms(Math.max(...lags))}   min ${ms(Math.min(...lags))}   target p95 <= ${TARGET_P95_MS} ms: ${percentile(lags, 95) <= TARGET_P95_MS ? 'met' : 'MISSED'}`);
    console.log(`  first expiry -> last login gone: ${ms(reaperSpan)}; revocations retried: ${lag.retries}`);
    console.log(`baseline (a), one admin session, DROP OWNED + DROP ROLE x${LEASES}: ${ms(drop.dropMs)}`);
    console.log(`  ratio p95 lag / (a): ${(percentile(lags, 95) / drop.dropMs).toFixed(1)}x;  (first expiry -> last gone) / (a): ${(reaperSpan / drop.dropMs).toFixed(1)}x`);
    console.log(`baseline (b), bare node+pg revocation protocol x${LEASES}, fresh admin login each, 8 at a time: ${ms(drop.protocolMs)}`);
    console.log(`  ratio max lag / (b): ${(Math.max(...lags) / drop.protocolMs).toFixed(1)}x  (the rest is the reaper's tick, its per-login lease and audit writes, and ${LEASES} leases falling due over ${ms(lag.spread)})`);
    console.log(`reaper RSS with ${RSS_LEASES} leases after ${Math.round(rss.afterMs / 1000)} s: ${rss.reaperMb.toFixed(1)} MB (peak ${rss.reaperPeakMb.toFixed(1)} MB, CPU ${rss.cpuPct.toFixed(1)}% of a core); idle node baseline ${rss.baselineMb.toFixed(1)} MB; ratio ${(rss.reaperMb / rss.baselineMb).toFixed(2)}x; target < ${TARGET_RSS_MB} MB: ${rss.reaperMb < TARGET_RSS_MB ? 'met' : 'MISSED'}`);
    log(`total ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return 0;
  } finally {
    for (const home of homes) await stopReaper(home).catch(() => {});
    await pg.stop();
    await rm(work, { recursive: true, force: true });
  }
}

/** Mint LEASES leases due together, then watch them disappear. */
async function expiryLag(pg, work, homes) {
  const home = join(work, 'expiry-state');
  homes.push(home);
  const policyFile = join(work, 'jit.yaml');
  await writeFile(policyFile, policy(pg.port));
  const env = {
    PATH: process.env.PATH,
    HOME: work,
    LANG: 'C.UTF-8',
    NO_COLOR: '1',
    JIT_HOME: home,
    JIT_POLICY: policyFile,
    JIT_BENCH_ADMIN_PW: pg.adminPassword,
    JIT_REQUESTER: 'bench',
  };

  // Warm-up: one lease (revoked at once) so the reaper is running and node's caches are warm.
  // It also tells how long `jit uri` takes from spawn to reading its clock.
  const warmSpawn = Date.now();
  const warm = await timedRun([process.execPath, JIT, 'uri', 'bench', '--role', 'expiring', '--ttl', '1h', '--json'], { env, cwd: work });
  if (warm.code !== 0) throw new Error(`jit uri failed: ${warm.stderr.trim()}`);
  const offsets = [Date.parse(JSON.parse(warm.stdout).expires_at) - 3_600_000 - warmSpawn];
  const revoked = await timedRun([process.execPath, JIT, 'revoke', JSON.parse(warm.stdout).id], { env, cwd: work });
  if (revoked.code !== 0) throw new Error(`jit revoke failed: ${revoked.stderr.trim()}`);

  // Everyone aims at one instant T. A --ttl has whole seconds, so each mint is started on a
  // whole-second boundary before T (less the spawn-to-clock delay seen so far): expiries then
  // differ only by that delay's jitter, not by up to a second of rounding.
  const T = Date.now() + Math.max(25_000, Math.ceil((LEASES / CONCURRENCY) * (warm.ms + 1000)) + 8_000);
  log(`minting ${LEASES} leases (${CONCURRENCY} at a time), all due at ~${new Date(T).toISOString()}`);
  const minted = [];
  const mintStart = Date.now();
  let next = 0;
  const worker = async () => {
    while (next < LEASES) {
      next++;
      const offset = median(offsets);
      const k = Math.floor((T - offset - Date.now()) / 1000);
      if (k < 6) throw new Error('minting is too slow for the chosen expiry instant');
      const spawnAt = T - offset - k * 1000;
      await sleep(Math.max(0, spawnAt - Date.now()));
      const spawned = Date.now();
      const r = await timedRun([process.execPath, JIT, 'uri', 'bench', '--role', 'expiring', '--ttl', `${k}s`, '--json'], { env, cwd: work });
      if (r.code !== 0) throw new Error(`jit uri failed: ${r.stderr.trim()}`);
      const out = JSON.parse(r.stdout);
      offsets.push(Date.parse(out.expires_at) - k * 1000 - spawned);
      minted.push(out);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const pid = await reaperPid(home);
  log(`minted in ${ms(Date.now() - mintStart)}; reaper pid ${pid ?? 'none'}`);
  if (pid === null) throw new Error('no reaper is running for the minted leases');

  const expiresAt = minted.map((m) => Date.parse(m.expires_at));
  const users = minted.map((m) => m.user);
  const goneAt = new Map();
  const admin = await pg.admin();
  try {
    const deadline = Math.max(...expiresAt) + 30_000;
    while (goneAt.size < users.length && Date.now() < deadline) {
      const { rows } = await admin.query('SELECT rolname FROM pg_catalog.pg_roles WHERE rolname = ANY($1)', [users]);
      const now = Date.now();
      const present = new Set(rows.map((r) => r.rolname));
      for (const u of users) if (!present.has(u) && !goneAt.has(u)) goneAt.set(u, now);
      await sleep(POLL_MS);
    }
  } finally {
    await admin.end();
  }
  const reaperLog = readFileSync(join(home, 'reaper.log'), 'utf8');
  const retries = (reaperLog.match(/ failed, attempt /g) ?? []).length;
  if (retries) log(`the reaper retried ${retries} revocation(s):\n${reaperLog.split('\n').filter((l) => l.includes(' failed, attempt ')).slice(0, 3).join('\n')}`);
  if (goneAt.size < users.length) throw new Error(`${users.length - goneAt.size} login(s) still exist 30 s after expiry`);
  const early = users.filter((u, i) => goneAt.get(u) < expiresAt[i] - 250);
  if (early.length) throw new Error(`${early.length} login(s) were removed before their expiry`);
  return {
    spread: Math.max(...expiresAt) - Math.min(...expiresAt),
    retries,
    expiresAt,
    goneAt: users.map((u) => goneAt.get(u)),
    lags: users.map((u, i) => goneAt.get(u) - expiresAt[i]),
  };
}

/**
 * The floors, on LEASES logins like jit's (login, grant, comment): (a) one admin session dropping
 * them back to back; (b) the same revocation protocol the reaper runs — fresh admin login
 * (SCRAM), NOLOGIN, terminate sessions, DROP OWNED, DROP ROLE — 8 at a time like the reaper.
 */
async function bareDrop(pg) {
  const create = async (admin) => {
    const names = Array.from({ length: LEASES }, () => `bare_${randomBytes(8).toString('hex')}`);
    for (const n of names) {
      await admin.query(`CREATE ROLE ${n} LOGIN VALID UNTIL 'infinity'; GRANT SELECT ON public.orders TO ${n}; COMMENT ON ROLE ${n} IS '{"id":"bare"}'`);
    }
    return names;
  };
  const admin = await pg.admin();
  let dropMs;
  let names;
  try {
    names = await create(admin);
    const start = process.hrtime.bigint();
    for (const n of names) await admin.query(`DROP OWNED BY ${n}; DROP ROLE ${n}`);
    dropMs = Number(process.hrtime.bigint() - start) / 1e6;
    names = await create(admin);
  } finally {
    await admin.end();
  }
  const start = process.hrtime.bigint();
  const queue = [...names];
  const worker = async () => {
    for (let n = queue.shift(); n; n = queue.shift()) {
      const c = await pg.admin();
      try {
        await c.query(`ALTER ROLE ${n} NOLOGIN`);
        await c.query('SELECT pg_catalog.pg_terminate_backend(pid) FROM pg_catalog.pg_stat_activity WHERE usename = $1', [n]);
        // Serialised like jit's: concurrent DROP OWNED on one table's ACL fails with XX000.
        await c.query(`SELECT pg_catalog.pg_advisory_xact_lock(42); DROP OWNED BY ${n}`);
        await c.query(`DROP ROLE ${n}`);
      } finally {
        await c.end();
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return { dropMs, protocolMs: Number(process.hrtime.bigint() - start) / 1e6 };
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const status = (pid) => readFileSync(`/proc/${pid}/status`, 'utf8');
const kb = (text, field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
/** utime + stime of a process, in clock ticks. */
const cpuTicks = (pid) => {
  const rest = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(rest[11]) + Number(rest[12]);
};

/** A reaper watching 1000 leases that are not due, next to an idle node process. */
async function reaperRss(work, homes) {
  const home = join(work, 'rss-state');
  homes.push(home);
  await mkdir(join(home, 'leases'), { recursive: true, mode: 0o700 });
  const closedPort = await freePort();
  const now = Date.now();
  for (let i = 0; i < RSS_LEASES; i++) {
    const id = `r${String(i).padStart(9, '0')}`;
    const lease = {
      id,
      database: 'bench',
      role: 'expiring',
      user: `jit_bench_${randomBytes(6).toString('hex')}`,
      target: { engine: 'postgres', host: '127.0.0.1', port: closedPort, database: 'app', tls: 'disable', adminUser: 'postgres' },
      adminSource: 'env:JIT_BENCH_ADMIN_PW',
      requester: 'bench',
      requesterHost: hostname(),
      createdAt: new Date(now).toISOString(),
      expiresAt: new Date(now + 3_600_000).toISOString(),
      maxExpiresAt: new Date(now + 3_600_000).toISOString(),
      clockSkewMs: 0,
      state: 'active',
      command: 'uri',
    };
    await writeFile(join(home, 'leases', `${id}.json`), `${JSON.stringify(lease, null, 2)}\n`, { mode: 0o600 });
  }
  const env = { PATH: process.env.PATH, HOME: work, JIT_HOME: home, JIT_BENCH_ADMIN_PW: 'unused' };
  const reaper = spawn(process.execPath, [JIT, '__reaper'], { env, stdio: 'ignore' });
  const baseline = spawn(process.execPath, ['-e', 'setInterval(()=>{},1000)'], { stdio: 'ignore' });
  try {
    const started = Date.now();
    for (let i = 0; i < 50 && (await reaperPid(home)) !== reaper.pid; i++) await sleep(100);
    if ((await reaperPid(home)) !== reaper.pid) throw new Error('the RSS reaper did not come up');
    const ticks0 = cpuTicks(reaper.pid);
    const t1 = Date.now();
    await sleep(Math.max(0, 10_000 - (Date.now() - started)));
    if (!alive(reaper.pid)) throw new Error('the reaper exited with 1000 leases left');
    const cpuPct = ((cpuTicks(reaper.pid) - ticks0) / 100 / ((Date.now() - t1) / 1000)) * 100; // USER_HZ is 100 on Linux
    const rs = status(reaper.pid);
    const bs = status(baseline.pid);
    return {
      afterMs: Date.now() - started,
      reaperMb: kb(rs, 'VmRSS') / 1024,
      reaperPeakMb: kb(rs, 'VmHWM') / 1024,
      baselineMb: kb(bs, 'VmRSS') / 1024,
      cpuPct,
    };
  } finally {
    await stopReaper(home).catch(() => {});
    if (reaper.exitCode === null && reaper.signalCode === null) reaper.kill('SIGKILL');
    baseline.kill('SIGKILL');
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    log(`error: ${err.message}`);
    process.exit(1);
  },
);
