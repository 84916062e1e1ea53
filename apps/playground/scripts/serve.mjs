#!/usr/bin/env node
/**
 * Serves the built playground (dist/) and an export folder under /model/ on localhost, with the
 * headers that make the page cross-origin isolated (onnxruntime-web's wasm threads need
 * SharedArrayBuffer). Everything the page loads comes from here: no CDN.
 *
 *   node scripts/serve.mjs [--model DIR] [--port N]     (default port 5180; 0 picks a free one)
 */
import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const DIST = join(here, '..', 'dist');

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.onnx': 'application/octet-stream',
  '.onnx_data': 'application/octet-stream',
};

/** The file under `root` a URL path names, or undefined when it escapes root or is no file. */
function fileUnder(root, urlPath) {
  const path = normalize(join(root, decodeURIComponent(urlPath)));
  if (path !== root && !path.startsWith(root + sep)) return undefined;
  try {
    const stat = statSync(path);
    return stat.isFile() ? { path, size: stat.size } : stat.isDirectory() ? fileUnder(root, join(urlPath, 'index.html')) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Starts the server; resolves with its address and a close().
 * @param {{ dist?: string, model?: string, port?: number, host?: string }} [options]
 * @returns {Promise<{ url: string, close(): Promise<void> }>}
 */
export function startServer({ dist = DIST, model, port = 5180, host = '127.0.0.1' } = {}) {
  const roots = { dist: resolve(dist), model: model && resolve(model) };
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const inModel = url.pathname.startsWith('/model/');
    const file = inModel ? roots.model && fileUnder(roots.model, url.pathname.slice('/model/'.length)) : fileUnder(roots.dist, url.pathname);
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    res.setHeader('Cache-Control', 'no-cache');
    if (!file) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, { 'Content-Type': TYPES[extname(file.path)] ?? 'application/octet-stream', 'Content-Length': file.size });
    if (req.method === 'HEAD') res.end();
    else createReadStream(file.path).pipe(res);
  });
  return new Promise((resolveStart, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const { port: bound } = server.address();
      resolveStart({ url: `http://${host === '127.0.0.1' ? 'localhost' : host}:${bound}/`, close: () => new Promise((r) => server.close(() => r())) });
    });
  });
}

function flag(name) {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { url } = await startServer({ model: flag('--model'), port: Number(flag('--port') ?? process.env.PORT ?? 5180) });
  console.log(`playground: ${url}`);
}
