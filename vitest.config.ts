import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['runner/**/*.test.ts', 'simulator/**/*.test.ts', 'properties/**/*.test.ts', 'fixtures/**/*.test.ts'],
    testTimeout: 60_000,
    globalSetup: ['./vitest.global-setup.ts'],
  },
});
