import { readFileSync, unlinkSync } from 'node:fs';
import { link, readFile, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { MllmError, type Logger } from '@mllm/core';

/** The lock file inside a run folder while a run (or a sweep's run) writes it. */
export const LOCK_FILE = '.mllm-lock';

/** Who holds a run folder: what the lock file says. */
export interface LockHolder {
  pid: number;
  host: string;
  /** ISO time the holder took the lock. */
  started: string;
  /** The holder's command line, to recognise it in `ps`. */
  command: string;
}

/** Locks this process holds, so a lock file naming this pid that is not among them is a dead process's (pids are reused). */
const heldHere = new Set<string>();

export interface RunLock {
  readonly path: string;
  release(): Promise<void>;
}

/**
 * Takes the exclusive lock of run folder `dir` (which must exist), or throws an MllmError naming
 * the holder. The lock file is written whole under a private name and then hard-linked to
 * `.mllm-lock`: link() fails with EEXIST when the lock exists, as O_EXCL does, and a reader
 * never sees a half-written holder. A lock whose holder is a dead process on this host (a
 * crash, a kill) is stale: it is taken over with a warning. A holder on another host cannot be
 * checked, so it is refused with the way to remove it by hand. Hand-written rather than
 * proper-lockfile: that library judges staleness by an mtime refreshed on a timer (wall clock)
 * and records no holder to name.
 */
export async function acquireRunLock(dir: string, logger: Logger): Promise<RunLock> {
  const path = join(dir, LOCK_FILE);
  const me: LockHolder = { pid: process.pid, host: hostname(), started: new Date().toISOString(), command: process.argv.slice(1).join(' ') };
  const mine = JSON.stringify(me);
  let tookOver = false;
  for (let attempt = 0; ; attempt++) {
    if (await tryCreate(path, mine)) break;
    const text = await readFile(path, 'utf8').catch(() => undefined);
    if (text === undefined && attempt < 3) continue; // released between our link and our read: try again
    const holder = text === undefined ? undefined : parseHolder(text);
    if (!holder) throw new MllmError(`run folder ${dir} holds a lock file that cannot be read (${path}); if no run is writing the folder, delete that file and rerun`);
    if (!isStale(holder, path) || tookOver) throw inUse(dir, path, holder);
    tookOver = true;
    logger.warn(`run folder ${dir} was locked by pid ${holder.pid} on ${holder.host} (since ${holder.started}), which is no longer running; taking the lock over`);
    // remove it only if it still is the stale lock we judged, not one another run took over meanwhile
    if ((await readFile(path, 'utf8').catch(() => undefined)) === text) await unlink(path).catch(() => undefined);
  }
  heldHere.add(path);
  const onExit = () => releaseSync(path, mine);
  process.once('exit', onExit);
  return {
    path,
    async release() {
      process.removeListener('exit', onExit);
      releaseSync(path, mine);
    },
  };
}

/** Creates the lock file with `content` unless it exists. */
async function tryCreate(path: string, content: string): Promise<boolean> {
  const staging = `${path}.${process.pid}-${Math.random().toString(36).slice(2)}`;
  await writeFile(staging, content, { flag: 'wx' });
  try {
    await link(staging, path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    await unlink(staging).catch(() => undefined);
  }
}

function parseHolder(text: string): LockHolder | undefined {
  try {
    const h = JSON.parse(text) as Partial<LockHolder>;
    return Number.isInteger(h.pid) && typeof h.host === 'string' ? { pid: h.pid!, host: h.host, started: String(h.started ?? '?'), command: String(h.command ?? '') } : undefined;
  } catch {
    return undefined;
  }
}

/** A holder on this host whose process is gone (or is this process, which did not take this lock). */
function isStale(holder: LockHolder, path: string): boolean {
  if (holder.host !== hostname()) return false;
  if (holder.pid === process.pid) return !heldHere.has(path);
  try {
    process.kill(holder.pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH'; // EPERM: alive, another user's
  }
}

function inUse(dir: string, path: string, holder: LockHolder): MllmError {
  const command = holder.command ? ` (${holder.command})` : '';
  return new MllmError(
    `run folder ${dir} is in use by another run: pid ${holder.pid} on ${holder.host}, started ${holder.started}${command}. ` +
      `Wait for it to finish or choose another --out; if that process is gone, delete ${path} and rerun.`,
  );
}

/** Removes the lock if it still is ours (sync: it also runs from process 'exit'). */
function releaseSync(path: string, mine: string): void {
  heldHere.delete(path);
  try {
    if (readFileSync(path, 'utf8') === mine) unlinkSync(path);
  } catch {
    // already gone (the folder was removed by hand)
  }
}
