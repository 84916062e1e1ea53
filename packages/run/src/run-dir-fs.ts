import { mkdir, open, rename, rm } from 'node:fs/promises';

/**
 * The file-system writes a checkpoint swap makes, behind an interface so tests can stop the
 * sequence after any one of them (a "kill" at that instant) or fail one with ENOSPC, without
 * timing or a preload. Reads go to node:fs directly: a kill cannot happen inside a read.
 */
export interface RunDirFs {
  /** Writes the whole file and fsyncs it, so a later rename never exposes a file whose bytes are still in flight. */
  writeFile(path: string, data: Buffer | string): Promise<void>;
  mkdir(path: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  /** Removes a file or folder tree; absent is fine. */
  rm(path: string): Promise<void>;
  /** fsyncs a folder so the renames and creations inside it survive a power cut, not only a kill. */
  syncDir(path: string): Promise<void>;
}

export const nodeRunDirFs: RunDirFs = {
  async writeFile(path, data) {
    const handle = await open(path, 'w');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
  async mkdir(path) {
    await mkdir(path, { recursive: true });
  },
  rename,
  async rm(path) {
    await rm(path, { recursive: true, force: true });
  },
  async syncDir(path) {
    // Folders cannot be opened for fsync on every platform (Windows): there the rename is as durable as the OS makes it.
    const handle = await open(path, 'r').catch(() => undefined);
    if (!handle) return;
    try {
      await handle.sync();
    } catch {
      // EINVAL/EISDIR where the file system has no folder fsync
    } finally {
      await handle.close();
    }
  },
};

/** Whether an error means the disk (or the user's quota) is full. */
export function isDiskFull(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}
