import { build } from 'esbuild';
import { mkdirSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const packagesDir = join(here, '..', '..');
// under the repo's node_modules, so the bundle resolves @tensorflow/* and zod as the packages do
const outDir = join(packagesDir, '..', 'node_modules', '.cache', 'mllm-dp-worker-test');

/**
 * Worker threads run plain JS: bundles a worker entry (TS, importing @mllm/* from source) into
 * one ESM file, leaving npm packages external, and returns its URL for DataParallel's workerUrl.
 */
export async function bundleWorker(entry: string): Promise<URL> {
  mkdirSync(outDir, { recursive: true });
  const names = new Set(readdirSync(packagesDir));
  const outfile = join(outDir, `${entry.replace(/\W/g, '_')}-${process.pid}.mjs`);
  await build({
    entryPoints: [join(here, entry)],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile,
    logLevel: 'error',
    plugins: [
      {
        name: 'mllm-from-source',
        setup(b) {
          b.onResolve({ filter: /^@mllm\// }, (args) => {
            // `@mllm/<name>` -> src/index.ts, a subpath `@mllm/<name>/<entry>` -> src/<entry>.ts
            const [name, entry = 'index'] = args.path.slice('@mllm/'.length).split('/');
            return names.has(name!) ? { path: join(packagesDir, name!, 'src', `${entry}.ts`) } : undefined;
          });
          b.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith('@mllm/') ? undefined : { path: args.path, external: true }));
        },
      },
    ],
  });
  return pathToFileURL(outfile);
}
