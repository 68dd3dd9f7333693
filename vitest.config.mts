import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    // CDK synthesis and the one real bundling test take seconds, not milliseconds.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default', 'json'],
    // .ci/run reads the counts from here; vitest's own summary is for people.
    outputFile: { json: 'test-results/vitest.json' },
    restoreMocks: true,
  },
});
