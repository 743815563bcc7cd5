import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // oclif writes through process.stdout; vitest must not swallow it (architecture.md §2.4).
    disableConsoleIntercept: true,
    env: { FORCE_COLOR: '0', NO_COLOR: '1', OCLIF_SKIP_NEW_VERSION_CHECK: 'true' },
    restoreMocks: true,
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default', ['json', { outputFile: '.vitest-results.json' }]],
  },
});
