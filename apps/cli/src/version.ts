import { readFileSync } from 'node:fs';

/**
 * This package's version, read from its package.json at run time: `src/` (tests) and `dist/`
 * (the build, also inside an installed tarball) both sit one level below it.
 */
export function cliVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}
