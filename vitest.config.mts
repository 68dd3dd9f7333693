import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    environment: 'node',
    reporters: ['default', 'json'],
    // .ci/run reads the counts from here; vitest's own summary is for people.
    outputFile: { json: 'test-results/vitest.json' },
    restoreMocks: true,
    // The handlers' JSON log lines and EMF metrics of passing tests would bury the failures; a
    // failing test still shows what it printed.
    silent: 'passed-only',
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: ['test/e2e/**', 'test/browser/**'],
          // The bundles every synthesized template and bundle test uses, built once.
          globalSetup: ['test/global-setup.ts'],
          // CDK synthesis and the tests that run the bundles take seconds, not milliseconds.
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          // One local runtime for the whole suite; faults are switched on it, so files run one at a time.
          globalSetup: ['test/e2e/global-setup.ts'],
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 300_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'browser',
          include: ['test/browser/**/*.test.ts'],
          // Each file starts its own local runtime (the bundles are built first) and a Chromium.
          testTimeout: 240_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
