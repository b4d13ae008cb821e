#!/usr/bin/env node
import { fileURLToPath } from 'node:url';
import { main } from '../dist/bundle/main.js';

process.exitCode = await main(process.argv.slice(2), process.env, fileURLToPath(import.meta.url));
