#!/usr/bin/env node
/**
 * `npm run bench`: `jit uri bench --role readonly` as a whole process against a bare node+pg
 * script doing the same CREATE ROLE / GRANT / COMMENT in one transaction (bench/lib/bare-mint.js),
 * on a throwaway PostgreSQL 15 this script starts. Runs are interleaved so both sides see the same
 * machine; the ratio of medians is the number (STYLE habit 7). A measurement, not a test: exit 0
 * whatever the ratio, non-zero only when a run failed.
 *
 * Variants, all interleaved per round:
 *   jit uri          the default: the lease is handed over the unix socket to the reaper that is
 *                    already running (the first warm-up run spawned it) — the headline
 *   bare node+pg     the floor for a Node tool
 *   jit (no reaper)  JIT_NO_REAPER=1: what the handoff itself costs
 *   node -e ''       node's own start-up, for scale
 *   jit first use    a fresh JIT_HOME, so jit spawns the detached reaper and waits for its socket
 *
 * Options: --iterations N (default 30), --warmup N (default 3), --cold N (default 8),
 * --jit PATH (another build's bin/jit.js as the candidate), --compare PATH (repeatable: another
 * build's bin/jit.js as an extra interleaved variant, to measure a proposed change against the
 * same floor in the same run — on a busy machine separate runs are not comparable).
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startCluster } from './lib/pg-cluster.js';
import { timedRun } from './lib/timed-run.js';
import { median, summary } from './lib/stats.js';
import { alive, reaperPid, stopReaper } from './lib/reaper.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const REPO_JIT = join(ROOT, 'bin', 'jit.js');
const BARE = join(ROOT, 'bench', 'lib', 'bare-mint.js');
const TARGET = 1.3;

const { values: flags } = parseArgs({
  options: {
    iterations: { type: 'string', default: '30' },
    warmup: { type: 'string', default: '3' },
    cold: { type: 'string', default: '8' },
    jit: { type: 'string', default: REPO_JIT },
    compare: { type: 'string', multiple: true, default: [] },
  },
});
const JIT = resolve(flags.jit);
const N = Number(flags.iterations);
const WARMUP = Number(flags.warmup);
const COLD = Number(flags.cold);

const FIXTURES = `
CREATE TABLE public.orders (id int PRIMARY KEY, customer_id int, total numeric(10,2));
CREATE TABLE public.customers (id int PRIMARY KEY, name text);
INSERT INTO public.orders VALUES (1, 1, 10.00);
INSERT INTO public.customers VALUES (1, 'Ada');
`;

const policy = (port) => `version: 1
databases:
  bench:
    engine: postgres
    host: 127.0.0.1
    port: ${port}
    database: app
    tls: disable
    admin:
      user: postgres
      password: env:JIT_BENCH_ADMIN_PW
    roles:
      readonly:
        ttl: 15m
        max_ttl: 1h
        grants:
          - privileges: [SELECT]
            tables: [public.orders, public.customers]
`;

const log = (line) => process.stderr.write(`${line}\n`);
const URI = /^postgresql:\/\/[^\s]+\n$/;

async function main() {
  if (!existsSync(join(ROOT, 'dist', 'main.js'))) throw new Error('dist/ is missing: run `npm run build` (or `npm run bench`, which builds first)');
  const t0 = Date.now();
  const pg = await startCluster({ fixtureSql: FIXTURES });
  const work = await mkdtemp(join(tmpdir(), 'jit-bench-'));
  const homes = new Set();
  let failed = false;
  try {
    log(`PostgreSQL 15 on 127.0.0.1:${pg.port} ready in ${Date.now() - t0} ms`);
    const policyFile = join(work, 'jit.yaml');
    await writeFile(policyFile, policy(pg.port));
    const baseEnv = {
      PATH: process.env.PATH,
      HOME: work,
      LANG: 'C.UTF-8',
      JIT_POLICY: policyFile,
      JIT_BENCH_ADMIN_PW: pg.adminPassword,
      JIT_REQUESTER: 'bench',
    };
    const home = async (name) => {
      const h = join(work, name);
      await mkdir(h, { recursive: true, mode: 0o700 });
      homes.add(h);
      return h;
    };
    const warmHome = await home('state');
    const noReaperHome = await home('state-no-reaper');
    const jitArgv = [process.execPath, JIT, 'uri', 'bench', '--role', 'readonly', '--ttl', '5m'];

    const variants = {
      jit: { label: 'jit uri', argv: jitArgv, env: { ...baseEnv, JIT_HOME: warmHome }, uri: true },
      bare: {
        label: 'bare node+pg',
        argv: [process.execPath, BARE],
        env: { ...baseEnv, BARE_HOST: pg.host, BARE_PORT: String(pg.port), BARE_DATABASE: pg.database, BARE_ADMIN_USER: pg.adminUser },
        uri: true,
      },
      noReaper: { label: 'jit uri, JIT_NO_REAPER=1', argv: jitArgv, env: { ...baseEnv, JIT_HOME: noReaperHome, JIT_NO_REAPER: '1' }, uri: true },
      node: { label: "node -e ''", argv: [process.execPath, '-e', ''], env: baseEnv, uri: false },
    };
    for (const [i, path] of flags.compare.entries()) {
      variants[`compare${i}`] = {
        label: `jit uri [${i + 1}]`,
        argv: [process.execPath, resolve(path), ...jitArgv.slice(2)],
        env: { ...baseEnv, JIT_HOME: await home(`state-compare-${i}`) },
        uri: true,
      };
    }
    // Wall ms and the process's own CPU ms, per variant.
    const samples = Object.fromEntries([...Object.keys(variants), 'cold'].map((k) => [k, []]));
    const cpu = Object.fromEntries([...Object.keys(variants), 'cold'].map((k) => [k, []]));

    const once = async (v, env = v.env) => {
      const r = await timedRun(v.argv, { env, cwd: work });
      // jit's only stderr warning on this path: the lease could not be handed to the reaper.
      if (r.code !== 0 || (v.uri && !URI.test(r.stdout)) || /warning:/.test(r.stderr)) {
        throw new Error(`${v.label} failed (exit ${r.code}):\n${r.stderr.trim() || r.stdout.trim() || '(no output)'}`);
      }
      return r;
    };
    const record = (k, r) => {
      samples[k].push(r.ms);
      if (r.cpuMs !== null) cpu[k].push(r.cpuMs);
    };
    // A fresh state directory: no reaper answers, so jit spawns one and waits for its socket.
    const coldOnce = async (i) => {
      const h = await home(`state-cold-${i}`);
      const r = await once(variants.jit, { ...variants.jit.env, JIT_HOME: h });
      await stopReaper(h);
      return r;
    };

    const order = Object.keys(variants);
    for (let i = 0; i < WARMUP; i++) for (const k of order) await once(variants[k]);
    const warmPid = await reaperPid(warmHome);
    log(`warm-up done (${WARMUP} of each); reaper for the default variant: ${warmPid === null ? 'NOT running' : `pid ${warmPid}`}`);

    const coldEvery = COLD > 0 ? Math.max(1, Math.floor(N / COLD)) : Infinity;
    for (let i = 0; i < N; i++) {
      // Rotate the order so no variant always runs right after the same neighbour.
      for (let j = 0; j < order.length; j++) {
        const k = order[(i + j) % order.length];
        record(k, await once(variants[k]));
      }
      if (i % coldEvery === 0 && samples.cold.length < COLD) record('cold', await coldOnce(samples.cold.length));
    }

    const ratio = (k) => median(samples[k]) / median(samples.bare);
    const ms = (k) => `${Math.round(median(samples[k]))} ms`;
    const cpuMean = (k) => cpu[k].reduce((a, b) => a + b, 0) / cpu[k].length;
    const cpuCol = (k) => (cpu[k].length ? `  cpu ${Math.round(cpuMean(k))} ms` : '');
    const line = (k, label, extra = '') =>
      `  ${label.padEnd(26)} ${summary(samples[k])}${cpuCol(k)}${variants[k]?.uri === false || k === 'bare' ? '' : `  ratio ${ratio(k).toFixed(2)}x`}${extra}`;
    const out = [
      '',
      `jit uri: median ${ms('jit')}, bare node+pg: median ${ms('bare')}, ratio ${ratio('jit').toFixed(2)}x (target <= ${TARGET.toFixed(2)}x)`,
      '',
      ...(cpu.jit.length && cpu.bare.length
        ? [`CPU per run (user+sys of the process itself, barely moved by other load): jit ${Math.round(cpuMean('jit'))} ms, bare ${Math.round(cpuMean('bare'))} ms, ratio ${(cpuMean('jit') / cpuMean('bare')).toFixed(2)}x`]
        : []),
      '',
      ...Object.entries(variants).map(([k, v]) => line(k, v.label)),
      samples.cold.length ? line('cold', 'jit uri, first use', '  (fresh JIT_HOME: spawns the reaper)') : `  ${'jit uri, first use'.padEnd(26)} skipped`,
      '',
      `  jit over bare: ${Math.round(median(samples.jit) - median(samples.bare))} ms; reaper handoff (warm): ${Math.round(median(samples.jit) - median(samples.noReaper))} ms; ` +
        `spawning the reaper (first use): ${samples.cold.length ? `${Math.round(median(samples.cold) - median(samples.jit))} ms` : '-'}; node start-up alone: ${ms('node')}`,
      ...flags.compare.map((path, i) => `  [${i + 1}] ${resolve(path)}`),
      `  ${N} interleaved rounds after ${WARMUP} warm-up rounds; PostgreSQL 15, fsync=off, SCRAM over TCP on 127.0.0.1` +
        `${JIT === REPO_JIT ? '' : `; jit = ${JIT}`}`,
      '',
    ];
    process.stdout.write(out.join('\n'));
  } catch (err) {
    failed = true;
    log(`bench failed: ${err.message}`);
  } finally {
    failed = !(await cleanup(pg, work, homes)) || failed;
  }
  log(`total ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return failed ? 1 : 0;
}

/** Revoke every jit login, drop the bare ones, stop every reaper, stop the server. True when clean. */
async function cleanup(pg, work, homes) {
  let clean = true;
  const warn = (line) => {
    clean = false;
    log(`cleanup: ${line}`);
  };
  try {
    const [first] = homes;
    if (first) {
      // --all revokes every jit login found on the server, whichever state dir minted it.
      const r = await timedRun([process.execPath, JIT, 'revoke', '--all', '--yes'], {
        env: { PATH: process.env.PATH, HOME: work, JIT_HOME: first, JIT_POLICY: join(work, 'jit.yaml'), JIT_BENCH_ADMIN_PW: pg.adminPassword, JIT_REQUESTER: 'bench' },
        cwd: work,
        timeoutMs: 60_000,
      });
      if (r.code !== 0) warn(`jit revoke --all failed (exit ${r.code}): ${r.stderr.trim()}`);
    }
    const pids = [];
    for (const h of homes) {
      const { pid, killed } = await stopReaper(h);
      if (pid !== null) pids.push(pid);
      if (killed) warn(`reaper ${pid} did not stop when asked; killed it`);
    }
    const admin = await pg.admin();
    try {
      const left = await admin.query(
        `SELECT r.rolname FROM pg_roles r WHERE starts_with(r.rolname, 'bare_') OR EXISTS (SELECT 1 FROM pg_auth_members m ` +
          `JOIN pg_roles j ON j.oid = m.roleid WHERE m.member = r.oid AND j.rolname = 'jit')`,
      );
      for (const { rolname } of left.rows) {
        if (!rolname.startsWith('bare_')) warn(`jit login ${rolname} survived revoke --all; dropping it`);
        const id = admin.escapeIdentifier(rolname);
        await admin.query(`DROP OWNED BY ${id}; DROP ROLE ${id}`);
      }
    } finally {
      await admin.end();
    }
    const survivors = pids.filter(alive);
    if (survivors.length) warn(`reaper process(es) still alive: ${survivors.join(', ')}`);
  } catch (err) {
    warn(err.message);
  } finally {
    await pg.stop();
    await rm(work, { recursive: true, force: true });
  }
  return clean;
}

process.exitCode = await main();
