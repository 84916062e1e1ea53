import { readFile, realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, sep } from 'node:path';
import { OnnxModelError, REEXPORT_HINT } from './manifest';

/**
 * Reads a file an ONNX folder names (mllm.json's `files`, mllm.json itself) only when it is a
 * regular file inside the folder: `..`, absolute paths and symlinks that lead out are refused,
 * so a downloaded folder cannot make the runtime read /etc or another user's files, and a FIFO
 * or device cannot hang the load.
 */

export interface ModelFileOptions {
  /** The mllm.json field that named the file (`files.decoder`), for messages. */
  field?: string;
  /** What to do when the file does not exist (default: the export is incomplete, re-export). */
  missingHint?: string;
}

/** The real path of `name` inside `dir`, after every symlink; throws when it leaves `dir` or is not a regular file. */
export async function resolveModelFile(dir: string, name: string, options: ModelFileOptions = {}): Promise<string> {
  const path = join(dir, name);
  const from = options.field ? ` (mllm.json ${options.field})` : '';
  let root: string;
  let real: string;
  try {
    root = await realpath(dir);
    real = await realpath(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new OnnxModelError(
      code === 'ENOENT' || code === 'ENOTDIR'
        ? `${path}: not found${from}; ${options.missingHint ?? `the export is incomplete, ${REEXPORT_HINT}`}`
        : `${path}: cannot be read (${(e as Error).message})${from}`,
    );
  }
  const inside = relative(root, real);
  if (inside === '' || inside === '..' || inside.startsWith(`..${sep}`) || isAbsolute(inside))
    throw new OnnxModelError(`${path}: leads to ${real}, outside the model folder ${root}${from}; a model folder's files must be inside it, ${REEXPORT_HINT}`);
  const info = await stat(real);
  if (!info.isFile()) throw new OnnxModelError(`${path}: not a regular file${from}; ${REEXPORT_HINT}`);
  return real;
}

/** The bytes of `name` inside `dir` (resolveModelFile's checks), refusing one larger than `maxBytes`. */
export async function readModelFile(dir: string, name: string, options: ModelFileOptions & { maxBytes?: number } = {}): Promise<Uint8Array> {
  const real = await resolveModelFile(dir, name, options);
  if (options.maxBytes !== undefined) {
    const { size } = await stat(real);
    if (size > options.maxBytes) throw new OnnxModelError(`${join(dir, name)}: ${size} bytes, more than the ${options.maxBytes} a ${name} can be; ${REEXPORT_HINT}`);
  }
  return readFile(real);
}
