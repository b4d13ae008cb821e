/**
 * The servers a test run can start, one per engine id, each at most once (server-broker.ts starts
 * it when the first test file asks). A new engine is one line here plus a kit in
 * test/helpers/servers.ts; e.g. with test/helpers/mariadb-server.ts:
 *   mariadb: async () => { const m = await startMariadb(); return { coords: {…JSON of m}, stop: m.stop }; },
 */
import { startPostgresForRun } from '../helpers/pg-server.js';
import { startMariadbForRun } from '../helpers/mariadb-scope.js';
import type { Starters } from './server-broker.js';

export const TEST_SERVERS: Starters = {
  pg15: () => startPostgresForRun({ version: 15 }),
  pg18: () => startPostgresForRun({ version: 18 }),
  pg15cron: () => startPostgresForRun({ version: 15, cron: true }),
  mariadb: () => startMariadbForRun(),
};
