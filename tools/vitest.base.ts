import { defineConfig } from 'vitest/config';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const packagesDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'packages');

/** Tests import sibling packages from source, so a change is tested without a rebuild. */
export function packageTests(overrides: { testTimeout?: number; setupFiles?: string[] } = {}) {
  const alias = Object.fromEntries(
    readdirSync(packagesDir).map((name) => [`@mllm/${name}`, join(packagesDir, name, 'src', 'index.ts')]),
  );
  return defineConfig({
    resolve: { alias },
    test: {
      include: ['src/**/*.test.ts'],
      // generous limits: on a loaded machine a slow test is still a passing test (hooks included,
      // since a beforeAll that trains a tiny run is as slow as the tests it serves)
      testTimeout: overrides.testTimeout ?? 600_000,
      hookTimeout: 600_000,
      // every package's tests run on the wasm backend, chosen once per test process
      setupFiles: overrides.setupFiles ?? [join(packagesDir, 'core', 'src', 'test-setup.ts')],
      pool: 'forks',
      fileParallelism: false,
    },
  });
}
