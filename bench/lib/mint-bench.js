/**
 * The mint benchmark, whatever the engine: `jit uri bench --role readonly` as a whole process
 * against a bare node+driver script doing the same SQL, on a throwaway server the engine part
 * starts (bench/lib/mint-postgres.js, bench/lib/mint-mariadb.js). Runs are interleaved so both
 * sides see the same machine; the ratio of medians is the number (STYLE habit 7). A measurement,
 * not a test: exit 0 whatever the ratio, non-zero only when a run or the clean-up failed.
 *
 * Variants, interleaved round by round:
 *   jit uri          the default: the lease goes over the unix socket to the reaper that is
 *                    already running (the first warm-up run started it) — the headline
 *   bare node+…      the floor for a Node tool
 *   jit uri, JIT_NO_REAPER=1   what the handoff itself costs
 *   node -e ''       node's own start-up, for scale
 *   jit uri, first use         a fresh JIT_HOME each time, so jit spawns the reaper and waits for it
 *   jit uri, reaper gone       a JIT_HOME in use (lease key, policy cache) whose reaper has left:
 *                              the first command of the day
 *
 * Options: --iterations N (30), --warmup N (3), --cold N (8 first-use runs), --jit PATH (another
 * build's bin/jit.js as the candidate), --compare PATH (repeatable: another build's bin/jit.js as
 * an extra interleaved variant; on a busy machine only runs in one session compare).
 */
import { cp, mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { timedRun } from './timed-run.js';
import { formatReport } from './report.js';
import { alive, reaperPid, stopReaper } from './reaper.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const REPO_JIT = join(ROOT, 'bin', 'jit.js');
const TARGET = 1.3;

/**
 * What one engine brings to the benchmark.
 * @typedef {object} MintBenchEngine
 * @property {string} name  e.g. 'PostgreSQL 15', for the log and the report
 * @property {string} prefix  the temp directory's prefix
 * @property {() => Promise<{host: string, port: number, adminPassword: string, stop(): Promise<void>}>} start
 *   a throwaway server holding the fixtures the policy names
 * @property {(server: any) => string} policy  the policy YAML (benchPolicy)
 * @property {(server: any) => {label: string, script: string, env: Record<string, string>}} bare  the baseline script and its BARE_* variables
 * @property {RegExp} uri  what a run prints on stdout
 * @property {(server: any) => Promise<void>} dropBare  drop the baseline's `bare_…` logins (before `jit revoke --all`, which must not meet them)
 * @property {(server: any) => Promise<string[]>} dropJitSurvivors  drop the jit logins `revoke --all` left; their names
 * @property {string} note  how the server runs and how the admin logs in, for the report
 */

/** Run the benchmark for one engine; resolves to the exit code. */
export async function runMintBench(engine) {
  const { values: flags } = parseArgs({
    options: {
      iterations: { type: 'string', default: '30' },
      warmup: { type: 'string', default: '3' },
      cold: { type: 'string', default: '8' },
      jit: { type: 'string', default: REPO_JIT },
      compare: { type: 'string', multiple: true, default: [] },
    },
  });
  const opts = { N: Number(flags.iterations), WARMUP: Number(flags.warmup), COLD: Number(flags.cold), JIT: resolve(flags.jit), compare: flags.compare };

  // Ctrl-C: finish the run in flight, then clean up (a leaked reaper would retry a dead server for
  // minutes). A second Ctrl-C exits at once; the server's exit hook still stops it.
  const state = { interrupted: false };
  process.on('SIGINT', () => {
    if (state.interrupted) process.exit(130);
    state.interrupted = true;
    log('interrupted: cleaning up (Ctrl-C again to quit now)');
  });

  if (!existsSync(join(ROOT, 'dist', 'main.js'))) {
    log('bench failed: dist/ is missing: run `npm run bench` (it builds first) or `npm run build`');
    return 1;
  }
  const t0 = Date.now();
  let server;
  try {
    server = await engine.start();
  } catch (err) {
    log(`bench failed: ${err.message}`);
    return 1;
  }
  log(`${engine.name} on 127.0.0.1:${server.port} ready in ${Date.now() - t0} ms`);
  const work = await mkdtemp(join(tmpdir(), engine.prefix));
  const homes = new Set();
  let ok = true;
  try {
    process.stdout.write(await measure(engine, server, work, homes, opts, state));
  } catch (err) {
    ok = false;
    log(`bench failed: ${err.message}`);
  } finally {
    ok = (await cleanup(engine, server, work, homes, opts.JIT)) && ok;
  }
  log(`total ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return ok ? 0 : 1;
}

const log = (line) => process.stderr.write(`${line}\n`);

/** A clean environment: the caller's NODE_OPTIONS or NODE_EXTRA_CA_CERTS (~45 ms per node start-up here) would be paid by both sides and only blur the ratio. */
const cleanEnv = (work, server) => ({
  PATH: process.env.PATH, HOME: work, LANG: 'C.UTF-8', JIT_POLICY: join(work, 'jit.yaml'), JIT_BENCH_ADMIN_PW: server.adminPassword, JIT_REQUESTER: 'bench',
});

async function measure(engine, server, work, homes, { N, WARMUP, COLD, JIT, compare }, state) {
  await writeFile(join(work, 'jit.yaml'), engine.policy(server));
  const baseEnv = cleanEnv(work, server);
  const home = async (name) => {
    const h = join(work, name);
    await mkdir(h, { recursive: true, mode: 0o700 });
    homes.add(h);
    return h;
  };
  const jitArgs = ['uri', 'bench', '--role', 'readonly', '--ttl', '5m'];
  const jit = (bin, env) => ({ argv: [process.execPath, bin, ...jitArgs], env: { ...baseEnv, ...env }, uri: true, ratio: true });
  const bare = engine.bare(server);

  const variants = {
    jit: { label: 'jit uri', ...jit(JIT, { JIT_HOME: await home('state') }) },
    bare: { label: bare.label, argv: [process.execPath, bare.script], env: { ...baseEnv, ...bare.env }, uri: true, ratio: false },
    noReaper: { label: 'jit uri, JIT_NO_REAPER=1', ...jit(JIT, { JIT_HOME: await home('state-no-reaper'), JIT_NO_REAPER: '1' }) },
    node: { label: "node -e ''", argv: [process.execPath, '-e', ''], env: baseEnv, uri: false, ratio: false },
  };
  for (const [i, path] of compare.entries()) {
    variants[`compare${i}`] = { label: `jit uri [${i + 1}]`, ...jit(resolve(path), { JIT_HOME: await home(`state-compare-${i}`) }) };
  }
  const order = Object.keys(variants);
  variants.cold = { label: 'jit uri, first use', ratio: true, note: '(fresh JIT_HOME: spawns the reaper)' };
  variants.restart = { label: 'jit uri, reaper gone', ratio: true, note: '(JIT_HOME in use, no reaper running: spawns one)' };
  const wall = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  const cpu = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));

  const once = async (v, env = v.env) => {
    if (state.interrupted) throw new Error('interrupted');
    const r = await timedRun(v.argv, { env, cwd: work });
    // jit's only stderr warning on this path: the lease could not be handed to the reaper.
    if (r.code !== 0 || (v.uri && !engine.uri.test(r.stdout)) || /warning:/.test(r.stderr)) {
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

  /**
   * The first command of the day: the state directory has its lease key and policy cache, its
   * reaper left with its last lease. A copy of a state directory one mint made, without that
   * mint's lease (its login goes with cleanup's revoke --all) and with its reaper stopped.
   */
  const template = await home('state-template');
  const restart = async (i) => {
    const h = await home(`state-restart-${i}`);
    await cp(template, h, { recursive: true });
    const r = await once(variants.jit, { ...variants.jit.env, JIT_HOME: h });
    await stopReaper(h, 200);
    return r;
  };

  for (let i = 0; i < WARMUP; i++) for (const k of order) await once(variants[k]);
  await once(variants.jit, { ...variants.jit.env, JIT_HOME: template });
  await stopReaper(template, 200);
  for (const name of ['leases', 'reaper.sock', 'reaper.log', 'audit.jsonl', 'clients']) await rm(join(template, name), { recursive: true, force: true });
  const pid = await reaperPid(variants.jit.env.JIT_HOME);
  log(`warm-up done (${WARMUP} rounds); the default variant's reaper: ${pid === null ? 'NOT running' : `pid ${pid}`}`);

  const coldEvery = COLD > 0 ? Math.max(1, Math.floor(N / COLD)) : Infinity;
  for (let i = 0; i < N; i++) {
    // Rotate the order so that no variant always follows the same neighbour.
    for (let j = 0; j < order.length; j++) {
      const k = order[(i + j) % order.length];
      record(k, await once(variants[k]));
    }
    if (i % coldEvery === 0 && wall.cold.length < COLD) {
      record('cold', await firstUse(wall.cold.length));
      record('restart', await restart(wall.restart.length));
    }
  }

  return formatReport({
    variants,
    wall,
    cpu,
    target: TARGET,
    notes: [
      ...compare.map((path, i) => `[${i + 1}] ${resolve(path)}`),
      `${N} interleaved rounds after ${WARMUP} warm-up rounds; ${engine.note}` + (JIT === REPO_JIT ? '' : `; jit = ${JIT}`),
    ],
  });
}

/** Drop the baseline's logins, revoke every jit login, stop every reaper, stop the server. True when all went to plan. */
async function cleanup(engine, server, work, homes, JIT) {
  let clean = true;
  const warn = (line) => {
    clean = false;
    log(`cleanup: ${line}`);
  };
  try {
    await engine.dropBare(server);
    const [first] = homes;
    if (first) {
      // --all revokes every jit login found on the server, whichever state dir minted it.
      const r = await timedRun([process.execPath, JIT, 'revoke', '--all', '--yes'], {
        env: { ...cleanEnv(work, server), JIT_HOME: first },
        cwd: work,
        timeoutMs: 60_000,
      });
      if (r.code !== 0) warn(`jit revoke --all failed (exit ${r.code}): ${r.stderr.trim()}`);
    }
    const pids = [];
    for (const h of homes) {
      // revoke --all dropped every login, but only the first home's lease files went with them:
      // another home's reaper (--compare) would wait to see its logins gone before it may stop.
      if (h !== first) await rm(join(h, 'leases'), { recursive: true, force: true });
      const { pid, killed } = await stopReaper(h);
      if (pid !== null) pids.push(pid);
      if (killed) warn(`reaper ${pid} did not stop when asked; killed it`);
    }
    for (const login of await engine.dropJitSurvivors(server)) warn(`jit login ${login} survived revoke --all; dropped it`);
    const survivors = pids.filter(alive);
    if (survivors.length) warn(`reaper process(es) still alive: ${survivors.join(', ')}`);
  } catch (err) {
    warn(err.message);
  } finally {
    await server.stop();
    await rm(work, { recursive: true, force: true });
  }
  return clean;
}
