import { defineConfig } from 'vitest/config';

// The end-to-end test drives the built page (dist/) in headless Chromium against the CLI.
export default defineConfig({
  test: { include: ['test/**/*.test.ts'], testTimeout: 600_000, hookTimeout: 600_000, pool: 'forks', fileParallelism: false },
});
