import { createRequire } from 'node:module';

// node:crypto and node:child_process take ~5 ms to load, a tenth of a short command's whole
// start-up (`jit list`, `jit __complete` on Tab), which needs neither: they are loaded on first use.
const load = createRequire(import.meta.url);

export const crypto = (): typeof import('node:crypto') => load('node:crypto') as typeof import('node:crypto');
export const childProcess = (): typeof import('node:child_process') => load('node:child_process') as typeof import('node:child_process');
