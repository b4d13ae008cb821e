#!/usr/bin/env node
/**
 * `npm run bench`: `jit uri bench --role readonly` as a whole process against a bare node+pg
 * script doing the same CREATE ROLE / GRANT / COMMENT in one transaction (bench/lib/bare-mint.js),
 * on a throwaway PostgreSQL 15 this script starts. The variants, options and report:
 * bench/lib/mint-bench.js; MariaDB: bench/mint-mysql.js.
 */
import { runMintBench } from './lib/mint-bench.js';
import { postgresMint } from './lib/mint-postgres.js';

process.exitCode = await runMintBench(postgresMint);
