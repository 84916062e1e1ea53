import { defineConfig } from 'vitest/config';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const packagesDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'packages');

/** `@mllm/<name>` and each `exports` subpath (`@mllm/llm/decoding` -> src/decoding.ts), matched exactly. */
function sourceAliases(): { find: RegExp; replacement: string }[] {
  return readdirSync(packagesDir).flatMap((name) => {
    const pkg = JSON.parse(readFileSync(join(packagesDir, name, 'package.json'), 'utf8')) as { exports?: Record<string, unknown> };
    const subpaths = Object.keys(pkg.exports ?? { '.': '' }).filter((s) => s !== './package.json');
    return subpaths.map((s) => ({
      find: new RegExp(`^@mllm/${name}${s.slice(1)}$`), // subpaths are plain words: nothing to escape
      replacement: join(packagesDir, name, 'src', s === '.' ? 'index.ts' : `${s.slice(2)}.ts`),
    }));
  });
}

/** Tests import sibling packages from source, so a change is tested without a rebuild. */
export function packageTests(overrides: { testTimeout?: number; setupFiles?: string[] } = {}) {
  const alias = sourceAliases();
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
