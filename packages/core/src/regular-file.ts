import { constants, type Stats } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { MllmError } from './errors';

/**
 * What a path is when it is not a regular file. Reading a FIFO blocks until a writer comes (for
 * ever, in a data folder), a device such as /dev/zero never ends, and a socket or a folder cannot
 * be read as a file at all: user data must be a regular file before anything reads it.
 */
export function fileKind(stats: Stats): string {
  if (stats.isFile()) return 'a regular file';
  if (stats.isDirectory()) return 'a folder';
  if (stats.isFIFO()) return 'a FIFO (named pipe)';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isSocket()) return 'a socket';
  if (stats.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}

/** A path that exists but is not a regular file (FIFO, device, socket, folder); names the file and what it is. */
export class NotRegularFileError extends MllmError {
  constructor(
    readonly path: string,
    readonly kind: string,
    what = 'file',
  ) {
    super(`${what} ${path} is ${kind}, not a regular file; pass the path of a regular file`);
  }
}

// O_NONBLOCK: opening a FIFO for reading returns at once instead of waiting for a writer;
// O_NOCTTY: a terminal device never becomes the controlling terminal. Both are 0 where absent (Windows).
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOCTTY ?? 0);

/**
 * Opens `path` for reading only if it is a regular file. The path is stat'ed first (a socket
 * cannot even be opened), then opened without blocking and the handle itself fstat'ed, so a file
 * swapped for a FIFO between the two checks is still refused: what is read is what was checked.
 * A missing or unreadable path rejects with the system error (ENOENT, EACCES) for the caller to
 * word; a FIFO, device, socket or folder with a NotRegularFileError naming `what` and the path.
 */
export async function openRegularFile(path: string, what = 'file'): Promise<FileHandle> {
  const before = await stat(path);
  if (!before.isFile()) throw new NotRegularFileError(path, fileKind(before), what);
  const handle = await open(path, OPEN_FLAGS);
  try {
    const after = await handle.stat();
    if (!after.isFile()) throw new NotRegularFileError(path, fileKind(after), what);
    return handle;
  } catch (e) {
    await handle.close();
    throw e;
  }
}

/** The bytes of a regular file (see openRegularFile); refuses files over `maxBytes` from their size, before reading. */
export async function readRegularFile(path: string, options: { what?: string; maxBytes?: number } = {}): Promise<Buffer> {
  const handle = await openRegularFile(path, options.what);
  try {
    if (options.maxBytes !== undefined) {
      const { size } = await handle.stat();
      if (size > options.maxBytes) throw new MllmError(`${options.what ?? 'file'} ${path} is ${size} bytes, over the limit of ${options.maxBytes}`);
    }
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}
