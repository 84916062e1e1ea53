/**
 * Browser stand-in for the part of node:fs that @mllm/onnx and @mllm/tokenizer import (vite.config.ts
 * aliases node:fs here for them). The open flags are Linux's; in the browser a mounted file can be
 * nothing but a regular file, so the flags that guard against FIFOs and terminals change nothing.
 */
export const constants = { O_RDONLY: 0, O_NONBLOCK: 0o4000, O_NOCTTY: 0o400 };

/** Only the export path (Node-only, never reached by the page) asks whether a path exists synchronously. */
export function existsSync(path: string): never {
  throw new Error(`fs.existsSync(${path}) is not available in the browser: the playground only reads model folders`);
}

export default { constants, existsSync };
