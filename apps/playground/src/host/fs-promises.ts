import { readBytes, statOf, type VirtualStat } from './virtual-files';

/**
 * Browser stand-in for the part of node:fs/promises that the ONNX runtime and the word tokenizer
 * read a model folder with (vite.config.ts aliases node:fs/promises here). Reads mounted files
 * (./virtual-files); everything that would write is absent on purpose.
 */

type Encoding = string | { encoding?: string };

/** Bytes as fs returns them: text when an encoding is named (every caller names utf8), else the bytes. */
function asRead(bytes: Uint8Array, encoding?: Encoding): Uint8Array | string {
  const enc = typeof encoding === 'string' ? encoding : encoding?.encoding;
  return enc ? new TextDecoder().decode(bytes) : bytes;
}

export async function readFile(path: string, encoding?: Encoding): Promise<Uint8Array | string> {
  return asRead(await readBytes(path), encoding);
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

/** A file handle over a mounted file, as the ONNX graph reader and the tokenizer's file reader use one: the bytes are fetched once, on first read. */
class VirtualFileHandle {
  private bytes?: Promise<Uint8Array>;
  constructor(private readonly path: string) {}

  private all(): Promise<Uint8Array> {
    this.bytes ??= readBytes(this.path);
    return this.bytes;
  }

  async stat(): Promise<VirtualStat & { isFIFO(): boolean; isSocket(): boolean }> {
    return { ...(await statOf(this.path)), isFIFO: () => false, isSocket: () => false };
  }

  async read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesRead: number; buffer: Uint8Array }> {
    const bytes = await this.all();
    const chunk = bytes.subarray(position, Math.min(bytes.length, position + length));
    buffer.set(chunk, offset);
    return { bytesRead: chunk.length, buffer };
  }

  async readFile(encoding?: Encoding): Promise<Uint8Array | string> {
    return asRead(await this.all(), encoding);
  }

  async close(): Promise<void> {
    this.bytes = undefined;
  }
}

/** Opens a mounted file for reading (any flags: a mounted file is read-only and regular). */
export async function open(path: string): Promise<VirtualFileHandle> {
  const stats = await statOf(path);
  if (!stats.isFile()) throw Object.assign(new Error(`EISDIR: illegal operation on a directory, open '${path}'`), { code: 'EISDIR', path });
  return new VirtualFileHandle(path);
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

export default { readFile, access, writeFile, appendFile, mkdir, mkdtemp, readdir, rename, rm, unlink, copyFile, stat, lstat, realpath, open };
