import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      'cli/**/*.test.ts',
      'runner/**/*.test.ts',
      'simulator/**/*.test.ts',
      'properties/**/*.test.ts',
      'fixtures/**/*.test.ts',
    ],
    // The outsider's test runs in a consumer directory, from the installed tarball
    // (properties/installed-package.test.ts), never from this repository's sources.
    exclude: ['fixtures/outsider/**', '**/node_modules/**'],
    testTimeout: 60_000,
    // Most files wait on real processes (sleeping, not computing), and each marks its processes
    // with a prefix of its own (simulator/test-support.ts: fileRunPrefix), so more files than
    // cores run at once without seeing each other's processes.
    maxWorkers: 4,
    globalSetup: ['./vitest.global-setup.ts'],
  },
});
