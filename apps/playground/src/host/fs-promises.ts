import { readBytes, statOf, type VirtualStat } from './virtual-files';

/**
 * Browser stand-in for the part of node:fs/promises that the ONNX runtime and the word tokenizer
 * read a model folder with (vite.config.ts aliases node:fs/promises here). Reads mounted files
 * (./virtual-files); everything that would write is absent on purpose.
 */

export async function readFile(path: string, encoding?: string | { encoding?: string }): Promise<Uint8Array | string> {
  const bytes = await readBytes(path);
  const enc = typeof encoding === 'string' ? encoding : encoding?.encoding;
  return enc ? new TextDecoder().decode(bytes) : bytes;
}

export async function access(path: string): Promise<void> {
  await statOf(path);
}

export async function stat(path: string): Promise<VirtualStat> {
  return statOf(path);
}

/** Mounted folders have no links: a path is its own real path, once it exists. */
export async function realpath(path: string): Promise<string> {
  await statOf(path);
  return path.replace(/\/+$/, '');
}

/** What a page cannot do: the Node-only paths of the same modules (export, saving) import these. */
function notInBrowser(name: string) {
  return async (): Promise<never> => {
    throw new Error(`${name} is not available in the browser: the playground only reads model folders`);
  };
}

export const writeFile = notInBrowser('fs.writeFile');
export const appendFile = notInBrowser('fs.appendFile');
export const mkdir = notInBrowser('fs.mkdir');
export const mkdtemp = notInBrowser('fs.mkdtemp');
export const readdir = notInBrowser('fs.readdir');
export const rename = notInBrowser('fs.rename');
export const rm = notInBrowser('fs.rm');
export const unlink = notInBrowser('fs.unlink');
export const copyFile = notInBrowser('fs.copyFile');
export const lstat = notInBrowser('fs.lstat');
export const open = notInBrowser('fs.open');

export default { readFile, access, writeFile, appendFile, mkdir, mkdtemp, readdir, rename, rm, unlink, copyFile, stat, lstat, realpath, open };
