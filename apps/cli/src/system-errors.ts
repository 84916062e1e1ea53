import { statSync } from 'node:fs';
import { dirname } from 'node:path';

/** A Node file-system or OS error: `ENOENT: no such file or directory, open 'x.json'`. */
export interface SystemError extends Error {
  code: string;
  syscall?: string;
  path?: string;
  dest?: string;
}

/** Node sets `syscall` on every error that comes from the OS; its own ERR_* codes (bugs) have none. */
export function isSystemError(e: unknown): e is SystemError {
  if (!(e instanceof Error)) return false;
  const { code, syscall } = e as Partial<SystemError>;
  return typeof code === 'string' && /^E[A-Z]+$/.test(code) && typeof syscall === 'string';
}

interface Explained {
  what: string;
  hint?: string;
}

const SPACE_HINT = 'free some space (or raise the quota) and rerun; an interrupted `mllm run` continues with --resume';

/** What each OS error means to someone who named a path, and what to do about it. */
const EXPLAINED: Record<string, Explained> = {
  ENOENT: { what: 'not found', hint: 'check the path; relative paths are taken from the current folder' },
  EISDIR: { what: 'a folder where a file was expected', hint: 'name a file (inside that folder, perhaps)' },
  ENOTDIR: { what: 'a part of the path is a file, a folder was expected', hint: 'name a folder, or a path inside one' },
  EEXIST: { what: 'already exists', hint: 'choose another path, or remove what is there' },
  ENOTEMPTY: { what: 'folder is not empty', hint: 'choose an empty or new folder' },
  EACCES: { what: 'permission denied', hint: 'check the permissions of the file and of the folders above it' },
  EPERM: { what: 'operation not permitted', hint: 'check the permissions of the file and of the folders above it' },
  EROFS: { what: 'read-only file system', hint: 'write somewhere else' },
  ENOSPC: { what: 'no space left on the device', hint: SPACE_HINT },
  EDQUOT: { what: 'disk quota exceeded', hint: SPACE_HINT },
  EMFILE: { what: 'too many open files', hint: 'raise the limit (ulimit -n) or run fewer --jobs / --workers at once' },
  ENFILE: { what: 'too many open files in the system', hint: 'close other programs or raise the system limit' },
  ENAMETOOLONG: { what: 'file name too long', hint: 'use a shorter path' },
  ELOOP: { what: 'too many levels of symbolic links', hint: 'a symbolic link points at itself, directly or through others' },
  EBUSY: { what: 'busy (in use by another program)', hint: 'wait for the other program, or use another path' },
  EIO: { what: 'input/output error', hint: 'the disk or the network file system failed; check it and rerun' },
  EXDEV: { what: 'cannot move across file systems', hint: 'keep the output on one file system' },
  ENXIO: { what: 'no reader or device behind this path', hint: 'name a regular file' },
  ETXTBSY: { what: 'file is busy (being executed)', hint: 'use another path' },
  ENOMEM: { what: 'out of memory', hint: 'close other programs, or make the model or batch smaller' },
};

/** The first folder above `path` (or `path` itself) that exists and is a file, if any. */
function fileInTheWay(path: string): string | undefined {
  for (let p = path; ; p = dirname(p)) {
    try {
      if (statSync(p).isFile()) return p;
      return undefined; // an existing folder: nothing in the way above it
    } catch {
      // missing: look one level up
    }
    if (dirname(p) === p) return undefined;
  }
}

/**
 * An OS error as `<what> (<path>)` plus a hint. Where a folder was expected and a file is in the
 * way (`--out` naming a file: EEXIST from mkdir, ENOTDIR below it), the message names that file.
 * `during` says what was running, for errors without a path (a write to an open file).
 */
export function explainSystemError(e: SystemError, during: string): Explained {
  const known = EXPLAINED[e.code];
  const path = e.path;
  if (path && (e.code === 'ENOTDIR' || (e.code === 'EEXIST' && e.syscall === 'mkdir'))) {
    const file = fileInTheWay(path);
    if (file) return { what: `${file} is a file, a folder was expected (${path})`, hint: 'name a folder, or move the file out of the way' };
  }
  const what = known?.what ?? `${e.code}, ${e.message.replace(/^[A-Z]+: /, '').split('\n')[0]}`;
  const paths = [path, e.dest].filter(Boolean).join(' -> ');
  return { what: `${what} (${paths || `${e.syscall} during ${during}`})`, hint: known?.hint };
}
