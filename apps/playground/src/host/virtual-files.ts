/**
 * The files the Node-side code of @mllm/onnx and @mllm/tokenizer reads, in the browser: an export
 * folder is "mounted" under a path, either as a URL on the serving origin (the default model) or as
 * the File objects of a folder the user picked or dropped. The node:fs/promises and node:path
 * stand-ins (./fs-promises, ./path) read through this table, so `OnnxMultimodalModel.load(dir)` and
 * `loadTokenizer(dir)` run unchanged and keep their own error messages.
 */

export type Mount = { kind: 'url'; base: string } | { kind: 'files'; files: ReadonlyMap<string, Blob> };

const mounts = new Map<string, Mount>();

/** Makes `dir/<name>` read `base<name>` (base ends with '/') or the picked file named `name`. */
export function mount(dir: string, source: Mount): void {
  mounts.set(trimSlashes(dir), source);
}

export function unmount(dir: string): void {
  mounts.delete(trimSlashes(dir));
}

/** A Node-like error, so the runtime's `code === 'ENOENT'` checks give their own messages. */
export class VirtualFileError extends Error {
  constructor(
    readonly code: 'ENOENT' | 'EIO',
    readonly path: string,
    why: string,
  ) {
    super(`${code}: ${why}, open '${path}'`);
  }
}

function trimSlashes(path: string): string {
  return path.replace(/\/+$/, '');
}

function find(path: string): { source: Mount; name: string } {
  for (const [dir, source] of mounts)
    if (path.startsWith(`${dir}/`)) return { source, name: path.slice(dir.length + 1) };
  throw new VirtualFileError('ENOENT', path, 'no such file or directory');
}

/** The bytes of a mounted file. */
export async function readBytes(path: string): Promise<Uint8Array> {
  const { source, name } = find(path);
  if (source.kind === 'files') {
    const file = source.files.get(name);
    if (!file) throw new VirtualFileError('ENOENT', path, 'no such file or directory');
    return new Uint8Array(await file.arrayBuffer());
  }
  let response: Response;
  try {
    response = await fetch(`${source.base}${name.split('/').map(encodeURIComponent).join('/')}`);
  } catch (e) {
    throw new VirtualFileError('EIO', path, `the server did not answer (${(e as Error).message})`);
  }
  if (response.status === 404) throw new VirtualFileError('ENOENT', path, 'no such file or directory');
  if (!response.ok) throw new VirtualFileError('EIO', path, `the server answered ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

export interface VirtualStat {
  size: number;
  isFile(): boolean;
  isDirectory(): boolean;
}

/** A mounted file's size (0 where the server does not say), or the mount's own folder. */
export async function statOf(path: string): Promise<VirtualStat> {
  const trimmed = trimSlashes(path);
  if (mounts.has(trimmed)) return { size: 0, isFile: () => false, isDirectory: () => true };
  const { source, name } = find(trimmed);
  let size: number;
  if (source.kind === 'files') {
    const file = source.files.get(name);
    if (!file) throw new VirtualFileError('ENOENT', path, 'no such file or directory');
    size = file.size;
  } else {
    const response = await fetch(`${source.base}${name.split('/').map(encodeURIComponent).join('/')}`, { method: 'HEAD' });
    if (response.status === 404) throw new VirtualFileError('ENOENT', path, 'no such file or directory');
    size = Number(response.headers.get('content-length') ?? 0);
  }
  return { size, isFile: () => true, isDirectory: () => false };
}

/** Total size in bytes of a mounted file. */
export async function sizeOf(path: string): Promise<number> {
  return (await statOf(path)).size;
}
