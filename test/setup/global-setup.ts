import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { startBroker } from './server-broker.js';
import { TEST_SERVERS } from './test-servers.js';

/**
 * End-to-end tests run the built binary (`bin/jit.js` → `dist/`). `npm test` builds first
 * (pretest); this only refuses to start against a missing build. Then the server broker: one
 * server per engine for the whole run, started when a test file first asks for it, stopped here
 * at the end (test/helpers/servers.ts).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const main = fileURLToPath(new URL('../../dist/main.js', import.meta.url));
  if (!existsSync(main)) {
    throw new Error('dist/main.js is missing: run `npm run build` (npm test does it for you)');
  }
  const broker = await startBroker(TEST_SERVERS);
  project.provide('jitBroker', broker.socketPath);
  return () => broker.close();
}
