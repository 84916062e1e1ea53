import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const here = dirname(fileURLToPath(import.meta.url));
const host = (file: string) => join(here, 'src', 'host', file);

/**
 * onnxruntime-web's wasm build (WebGPU + wasm in one) and the script that loads it, served from
 * the page's own origin under ort/: no CDN, and nothing to fetch after the first load. The page
 * bundles ort.min.mjs (the build of the `onnxruntime-web-use-extern-wasm` condition), which loads
 * these two files from `env.wasm.wasmPaths` instead of carrying its own copy of the loader.
 */
export const ORT_FILES = ['ort-wasm-simd-threaded.jsep.wasm', 'ort-wasm-simd-threaded.jsep.mjs'];
const ORT_DIR = dirname(createRequire(import.meta.url).resolve('onnxruntime-web'));

function ortWasm(): Plugin {
  const dir = ORT_DIR;
  return {
    name: 'mllm-ort-wasm',
    configureServer(server) {
      for (const file of ORT_FILES)
        server.middlewares.use(`/ort/${file}`, (_req, res) => {
          res.setHeader('Content-Type', file.endsWith('.wasm') ? 'application/wasm' : 'text/javascript');
          res.end(readFileSync(join(dir, file)));
        });
    },
    writeBundle(options) {
      mkdirSync(join(options.dir!, 'ort'), { recursive: true });
      for (const file of ORT_FILES) copyFileSync(join(dir, file), join(options.dir!, 'ort', file));
    },
  };
}

const HOST_MODULES: Record<string, string> = { fs: 'fs.ts', 'fs/promises': 'fs-promises.ts', path: 'path.ts', module: 'module.ts', url: 'url.ts' };

/**
 * The ONNX runtime and the word tokenizer read model folders with node:fs/promises and node:path,
 * and pick onnxruntime with node:module's createRequire (from tsup's shim of __filename, which
 * node:url computes at load): imported from @mllm/onnx or
 * @mllm/tokenizer, these resolve to src/host, which reads the page's mounted folders and hands
 * the runtime onnxruntime-web. Other packages' Node imports sit in code the page never reaches
 * (tree-shaken) and keep vite's empty browser stand-ins.
 */
function nodeHost(): Plugin {
  return {
    name: 'mllm-node-host',
    enforce: 'pre',
    resolveId(source, importer) {
      const file = HOST_MODULES[source.replace(/^node:/, '')];
      if (!file || !importer || !/[\\/]packages[\\/](onnx|tokenizer)[\\/]dist[\\/]/.test(importer)) return null;
      return host(file);
    },
  };
}

export default defineConfig({
  base: './',
  // onnxruntime-web's `onnxruntime-web-use-extern-wasm` build (ort.min.mjs): see ORT_FILES
  resolve: { alias: [{ find: /^onnxruntime-web$/, replacement: join(ORT_DIR, 'ort.min.mjs') }] },
  worker: { format: 'es', plugins: () => [nodeHost()] },
  build: { target: 'es2022', chunkSizeWarningLimit: 2048 },
  plugins: [nodeHost(), ortWasm()],
});
