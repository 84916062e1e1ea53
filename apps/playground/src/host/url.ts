/**
 * Browser stand-in for node:url, for the module-level `fileURLToPath(import.meta.url)` that
 * tsup's shims put in every @mllm package chunk (CJS/ESM interop): in a page it is the URL's path.
 */

export function fileURLToPath(url: string | URL): string {
  return new URL(url).pathname;
}

export function pathToFileURL(path: string): URL {
  return new URL(`file://${path}`);
}

export default { fileURLToPath, pathToFileURL };
