import type { Options } from 'tsup';

/** One build recipe for every package: ESM + CJS + d.ts from src/index.ts. */
export function packageBuild(overrides: Partial<Options> = {}): Options {
  return {
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    // tfjs must stay one shared instance: never bundle it into a package.
    external: [/^@tensorflow\//, /^@mllm\//],
    ...overrides,
  };
}
