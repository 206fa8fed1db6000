import { defineConfig } from 'vitest/config';

/**
 * The outside gates: software from outside this repository, installed and run for real (the
 * packed tarball installed with npm and pnpm; the registry's compiled tiann/hapi). About two
 * minutes of a small machine between them, so the default run (about a minute) leaves them to
 * CI (`CI` set, as GitHub Actions and most CI services set it) and to `pnpm test:outside`.
 */
const OUTSIDE_GATES = ['properties/installed-package.test.ts', 'cli/hapi.test.ts'];
const ci = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false';
export const withOutsideGates = ci || process.env.RUNNER_CHAOS_OUTSIDE_GATES === '1';

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
    exclude: ['fixtures/outsider/**', '**/node_modules/**', ...(withOutsideGates ? [] : OUTSIDE_GATES)],
    testTimeout: 60_000,
    // Most files wait on real processes (sleeping, not computing), and each marks its processes
    // with a prefix of its own (simulator/test-support.ts: fileRunPrefix), so more files than
    // cores run at once without seeing each other's processes.
    maxWorkers: 4,
    // Each worker loads zod, fast-check, msw and the worlds once for all its files, not once per
    // file: a fifth of the suite's CPU was module loading (85 s against 70 s on two cores). Safe
    // here: no test mocks a module, the two that spy on stdout restore it in a finally, and each
    // file sets its own run marker when it loads (simulator/test-support.ts: fileRunPrefix).
    isolate: false,
    globalSetup: ['./vitest.global-setup.ts'],
  },
});
