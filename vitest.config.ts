import { defineConfig } from 'vitest/config';
import ServerAwareSequencer from './test/setup/sequencer.js';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['test/setup/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    fileParallelism: true,
    maxWorkers: 2,
    // One server per engine for the run, shared by files under a readers/writer lock
    // (test/helpers/servers.ts): order files so the lock keeps workers idle as little as possible.
    sequence: { sequencer: ServerAwareSequencer },
  },
});
