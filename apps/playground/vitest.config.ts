import { defineConfig } from 'vitest/config';

// Unit tests sit beside the code; the end-to-end test drives the built page (dist/) in headless Chromium against the CLI.
export default defineConfig({
  test: { include: ['src/**/*.test.ts', 'test/**/*.test.ts'], testTimeout: 600_000, hookTimeout: 600_000, pool: 'forks', fileParallelism: false },
});
