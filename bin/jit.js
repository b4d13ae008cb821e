#!/usr/bin/env node
// CommonJS (bin/package.json), as is the bundle: see rolldown.config.mjs.
const { main } = require('../dist/bundle/main.cjs');

main(process.argv.slice(2), process.env, __filename).then((code) => {
  process.exitCode = code;
});
