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
    // import.meta.url in the CJS build (and __filename in the ESM one): code that finds files
    // beside itself works in both, also inside split chunks, where a bare import.meta is a
    // syntax error in a .cjs file
    shims: true,
    // tfjs must stay one shared instance: never bundle it into a package.
    external: [/^@tensorflow\//, /^@mllm\//],
    ...overrides,
  };
}
