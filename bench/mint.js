#!/usr/bin/env node
/**
 * `npm run bench`: `jit uri bench --role readonly` as a whole process against a bare node+pg
 * script doing the same CREATE ROLE / GRANT / COMMENT in one transaction (bench/lib/bare-mint.js),
 * on a throwaway PostgreSQL 15 this script starts. Runs are interleaved so both sides see the same
 * machine; the ratio of medians is the number (STYLE habit 7). A measurement, not a test: exit 0
 * whatever the ratio, non-zero only when a run or the clean-up failed.
 *
 * Variants, interleaved round by round:
 *   jit uri          the default: the lease goes over the unix socket to the reaper that is
 *                    already running (the first warm-up run started it) — the headline
 *   bare node+pg     the floor for a Node tool
 *   jit uri, JIT_NO_REAPER=1   what the handoff itself costs
 *   node -e ''       node's own start-up, for scale
 *   jit uri, first use         a fresh JIT_HOME each time, so jit spawns the reaper and waits for it
 *
 * Options: --iterations N (30), --warmup N (3), --cold N (8 first-use runs), --jit PATH (another
 * build's bin/jit.js as the candidate), --compare PATH (repeatable: another build's bin/jit.js as
 * an extra interleaved variant; on a busy machine only runs in one session compare).
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startCluster } from '../test/helpers/pg-cluster.js';
import { timedRun } from './lib/timed-run.js';
import { formatReport } from './lib/report.js';
import { alive, reaperPid, stopReaper } from './lib/reaper.js';
import { benchPolicy } from './lib/policy.js';

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
const N = Number(flags.iterations);
const WARMUP = Number(flags.warmup);
const COLD = Number(flags.cold);
const JIT = resolve(flags.jit);

const FIXTURES = `
CREATE TABLE public.orders (id int PRIMARY KEY, customer_id int, total numeric(10,2));
CREATE TABLE public.customers (id int PRIMARY KEY, name text);
INSERT INTO public.orders VALUES (1, 1, 10.00);
INSERT INTO public.customers VALUES (1, 'Ada');
`;

const policy = (port) => benchPolicy(port, { name: 'readonly', ttl: '15m', tables: ['public.orders', 'public.customers'] });

const log = (line) => process.stderr.write(`${line}\n`);
const URI = /^postgresql:\/\/\S+\n$/;

// Ctrl-C: finish the run in flight, then clean up (a leaked reaper would retry a dead server for
// minutes). A second Ctrl-C exits at once; the cluster's exit hook still stops the postmaster.
let interrupted = false;
process.on('SIGINT', () => {
  if (interrupted) process.exit(130);
  interrupted = true;
  log('interrupted: cleaning up (Ctrl-C again to quit now)');
});

async function main() {
  if (!existsSync(join(ROOT, 'dist', 'main.js'))) {
    log('bench failed: dist/ is missing: run `npm run bench` (it builds first) or `npm run build`');
    return 1;
  }
  const t0 = Date.now();
  let pg;
  try {
    pg = await startCluster({ fixtureSql: FIXTURES, prefix: 'jit-bench-pg-' });
  } catch (err) {
    log(`bench failed: ${err.message}`);
    return 1;
  }
  log(`PostgreSQL 15 on 127.0.0.1:${pg.port} ready in ${Date.now() - t0} ms`);
  const work = await mkdtemp(join(tmpdir(), 'jit-bench-'));
  const homes = new Set();
  let ok = true;
  try {
    process.stdout.write(await measure(pg, work, homes));
  } catch (err) {
    ok = false;
    log(`bench failed: ${err.message}`);
  } finally {
    ok = (await cleanup(pg, work, homes)) && ok;
  }
  log(`total ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return ok ? 0 : 1;
}

async function measure(pg, work, homes) {
  const policyFile = join(work, 'jit.yaml');
  await writeFile(policyFile, policy(pg.port));
  // A clean environment: the caller's NODE_OPTIONS or NODE_EXTRA_CA_CERTS (~45 ms per node
  // start-up here) would be paid by both sides and only blur the ratio.
  const baseEnv = { PATH: process.env.PATH, HOME: work, LANG: 'C.UTF-8', JIT_POLICY: policyFile, JIT_BENCH_ADMIN_PW: pg.adminPassword, JIT_REQUESTER: 'bench' };
  const home = async (name) => {
    const h = join(work, name);
    await mkdir(h, { recursive: true, mode: 0o700 });
    homes.add(h);
    return h;
  };
  const jitArgs = ['uri', 'bench', '--role', 'readonly', '--ttl', '5m'];
  const jit = (bin, env) => ({ argv: [process.execPath, bin, ...jitArgs], env: { ...baseEnv, ...env }, uri: true, ratio: true });

  const variants = {
    jit: { label: 'jit uri', ...jit(JIT, { JIT_HOME: await home('state') }) },
    bare: {
      label: 'bare node+pg',
      argv: [process.execPath, BARE],
      env: { ...baseEnv, BARE_HOST: pg.host, BARE_PORT: String(pg.port), BARE_DATABASE: pg.database, BARE_ADMIN_USER: pg.adminUser },
      uri: true,
      ratio: false,
    },
    noReaper: { label: 'jit uri, JIT_NO_REAPER=1', ...jit(JIT, { JIT_HOME: await home('state-no-reaper'), JIT_NO_REAPER: '1' }) },
    node: { label: "node -e ''", argv: [process.execPath, '-e', ''], env: baseEnv, uri: false, ratio: false },
  };
  for (const [i, path] of flags.compare.entries()) {
    variants[`compare${i}`] = { label: `jit uri [${i + 1}]`, ...jit(resolve(path), { JIT_HOME: await home(`state-compare-${i}`) }) };
  }
  const order = Object.keys(variants);
  variants.cold = { label: 'jit uri, first use', ratio: true, note: '(fresh JIT_HOME: spawns the reaper)' };
  const wall = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  const cpu = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));

  const once = async (v, env = v.env) => {
    if (interrupted) throw new Error('interrupted');
    const r = await timedRun(v.argv, { env, cwd: work });
    // jit's only stderr warning on this path: the lease could not be handed to the reaper.
    if (r.code !== 0 || (v.uri && !URI.test(r.stdout)) || /warning:/.test(r.stderr)) {
      throw new Error(`${v.label} failed (exit ${r.code}):\n${r.stderr.trim() || r.stdout.trim() || '(no output)'}`);
    }
    return r;
  };
  const record = (k, r) => {
    wall[k].push(r.ms);
    if (r.cpuMs !== null) cpu[k].push(r.cpuMs);
  };
  const firstUse = async (i) => {
    const h = await home(`state-cold-${i}`);
    const r = await once(variants.jit, { ...variants.jit.env, JIT_HOME: h });
    await stopReaper(h);
    return r;
  };

  for (let i = 0; i < WARMUP; i++) for (const k of order) await once(variants[k]);
  const pid = await reaperPid(variants.jit.env.JIT_HOME);
  log(`warm-up done (${WARMUP} rounds); the default variant's reaper: ${pid === null ? 'NOT running' : `pid ${pid}`}`);

  const coldEvery = COLD > 0 ? Math.max(1, Math.floor(N / COLD)) : Infinity;
  for (let i = 0; i < N; i++) {
    // Rotate the order so that no variant always follows the same neighbour.
    for (let j = 0; j < order.length; j++) {
      const k = order[(i + j) % order.length];
      record(k, await once(variants[k]));
    }
    if (i % coldEvery === 0 && wall.cold.length < COLD) record('cold', await firstUse(wall.cold.length));
  }

  return formatReport({
    variants,
    wall,
    cpu,
    target: TARGET,
    notes: [
      ...flags.compare.map((path, i) => `[${i + 1}] ${resolve(path)}`),
      `${N} interleaved rounds after ${WARMUP} warm-up rounds; PostgreSQL 15 (fsync=off), SCRAM over TCP on 127.0.0.1` +
        (JIT === REPO_JIT ? '' : `; jit = ${JIT}`),
    ],
  });
}

/** Revoke every jit login, drop the bare ones, stop every reaper, stop the server. True when all went to plan. */
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
      const { rows } = await admin.query(
        `SELECT r.rolname FROM pg_roles r WHERE starts_with(r.rolname, 'bare_') OR EXISTS (SELECT 1 FROM pg_auth_members m ` +
          `JOIN pg_roles j ON j.oid = m.roleid WHERE m.member = r.oid AND j.rolname = 'jit')`,
      );
      for (const { rolname } of rows) {
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
