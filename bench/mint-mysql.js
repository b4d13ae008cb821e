#!/usr/bin/env node
/**
 * `npm run bench`, MariaDB: `jit uri bench --role readonly` as a whole process against a bare
 * node+mysql2 script sending the same statements in one multi-statement query
 * (bench/lib/bare-mint-mysql.js), on a throwaway MariaDB 10.11 this script starts. The variants,
 * options and report: bench/lib/mint-bench.js; PostgreSQL: bench/mint.js.
 */
import { runMintBench } from './lib/mint-bench.js';
import { mariadbMint } from './lib/mint-mariadb.js';

process.exitCode = await runMintBench(mariadbMint);
