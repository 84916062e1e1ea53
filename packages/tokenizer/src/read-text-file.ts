import { constants } from 'node:fs';
import { open } from 'node:fs/promises';

/**
 * The text of a tokenizer file, read only when it is a regular file: the handle is opened without
 * blocking (a FIFO named tokenizer.json would otherwise wait for a writer for ever) and fstat'ed
 * before anything is read, so a device such as /dev/zero is refused too. The same check as
 * openRegularFile in @mllm/core, kept here because this package does not depend on core (its
 * tokenizers load in a browser without tfjs). Errors are plain: callers add what the file is for.
 */
export async function readTextFile(path: string): Promise<string> {
  const handle = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOCTTY ?? 0));
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) {
      const kind = stats.isDirectory() ? 'a folder' : stats.isFIFO() ? 'a FIFO (named pipe)' : stats.isSocket() ? 'a socket' : 'a device';
      throw Object.assign(new Error(`${path} is ${kind}, not a regular file`), { notRegularKind: kind });
    }
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}
