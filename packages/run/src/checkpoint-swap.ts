import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MllmError, type Logger } from '@mllm/core';
import { isDiskFull, nodeRunDirFs, type RunDirFs } from './run-dir-fs';

/**
 * How a checkpoint is replaced so that a kill at any instant leaves a resumable run folder.
 *
 * A checkpoint is a folder of files with `state.json` among them. `state.json` is written last,
 * as `state.json.part` renamed into place after every other file was written and fsync'd, so a
 * folder that holds a `state.json` is complete: that is the only test of completeness.
 *
 * Saving (one writer: the run folder's lock, run-lock.ts):
 *   1. remove a leftover `checkpoint.tmp`, create it, write the files (each fsync'd), then
 *      `state.json`; fsync the folder
 *   2. rename `checkpoint` -> `checkpoint.old`; fsync the run folder
 *   3. rename `checkpoint.tmp` -> `checkpoint`; fsync the run folder
 *   4. remove `checkpoint.old`
 * A directory cannot replace another in one atomic step, so between 2 and 3 there is no
 * `checkpoint/`, only two complete copies beside it. Hence recovery, on every start of a run
 * into the folder and before anything reads the checkpoint (`recoverCheckpoint`): among
 * `checkpoint`, `checkpoint.tmp*` and `checkpoint.old*` (the `*` also matches the `-<pid>` names
 * of earlier versions) the complete one that got furthest (stage, then step) becomes
 * `checkpoint/`; the others are removed. Recovery uses the same few renames, so a kill during
 * recovery is recovered the same way on the next start.
 */
export const CHECKPOINT_DIR = 'checkpoint';
const TMP_DIR = 'checkpoint.tmp';
const OLD_DIR = 'checkpoint.old';
const STATE_FILE = 'state.json';

/** The progress fields every checkpoint's state.json has; the rest is the caller's. */
export interface CheckpointProgress {
  stageIndex: number;
  step: number;
}

/**
 * Writes `files` and then `state` as a new checkpoint of `dir` and swaps it in. A full disk
 * removes the new folder and throws an MllmError that says the previous checkpoint is intact.
 */
export async function swapCheckpoint(dir: string, files: [name: string, data: Buffer][], state: CheckpointProgress, fs: RunDirFs = nodeRunDirFs): Promise<void> {
  const final = join(dir, CHECKPOINT_DIR);
  const tmp = join(dir, TMP_DIR);
  const old = join(dir, OLD_DIR);
  try {
    await fs.rm(tmp);
    await fs.mkdir(tmp);
    for (const [name, data] of files) await fs.writeFile(join(tmp, name), data);
    await fs.writeFile(join(tmp, `${STATE_FILE}.part`), JSON.stringify(state, null, 2));
    await fs.rename(join(tmp, `${STATE_FILE}.part`), join(tmp, STATE_FILE));
    await fs.syncDir(tmp);
  } catch (e) {
    // best effort: a process that was killed (or a test double that plays one) removes nothing
    await fs.rm(tmp).catch(() => undefined);
    if (isDiskFull(e)) throw diskFullError(tmp, readProgress(final));
    throw e;
  }
  await fs.rm(old);
  if (existsSync(final)) {
    await fs.rename(final, old);
    await fs.syncDir(dir);
  }
  await fs.rename(tmp, final);
  await fs.syncDir(dir);
  await fs.rm(old);
}

function diskFullError(tmp: string, last: CheckpointProgress | undefined): MllmError {
  const kept = last
    ? `the last checkpoint (stage ${last.stageIndex} step ${last.step}) is intact`
    : 'no earlier checkpoint exists, so rerun from the start (--force) instead';
  return new MllmError(`disk full while writing checkpoint to ${tmp}; free space and rerun with --resume; ${kept}`);
}

/** The progress in `folder/state.json`, or undefined when the folder is not a complete checkpoint. */
export function readProgress(folder: string): CheckpointProgress | undefined {
  try {
    const state = JSON.parse(readFileSync(join(folder, STATE_FILE), 'utf8')) as Partial<CheckpointProgress>;
    return Number.isInteger(state.stageIndex) && Number.isInteger(state.step) ? { stageIndex: state.stageIndex!, step: state.step! } : undefined;
  } catch {
    return undefined;
  }
}

/** The checkpoint folders of `dir` a save may have left: `checkpoint` first, then temporary and previous copies. */
function checkpointFolders(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const names = readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && (e.name === CHECKPOINT_DIR || e.name.startsWith(TMP_DIR) || e.name.startsWith(OLD_DIR)))
    .map((e) => e.name)
    .sort();
  return [...names.filter((n) => n === CHECKPOINT_DIR), ...names.filter((n) => n !== CHECKPOINT_DIR)];
}

/** The complete checkpoint folder recovery would choose, or undefined when `dir` holds none. */
function newestComplete(dir: string): { name: string; progress: CheckpointProgress } | undefined {
  let best: { name: string; progress: CheckpointProgress } | undefined;
  for (const name of checkpointFolders(dir)) {
    const progress = readProgress(join(dir, name));
    if (!progress) continue;
    const further = !best || progress.stageIndex > best.progress.stageIndex || (progress.stageIndex === best.progress.stageIndex && progress.step > best.progress.step);
    if (further) best = { name, progress };
  }
  return best;
}

/** Whether `dir` holds a checkpoint to resume from, in `checkpoint/` or in copies an interrupted swap left. */
export function hasCheckpoint(dir: string): boolean {
  return newestComplete(dir) !== undefined;
}

/**
 * Puts the newest complete checkpoint a save left in `dir` at `checkpoint/` and removes the
 * other copies (see the scheme above). Returns its progress, or undefined when there is none.
 * Only a process that holds the run folder's lock may call it.
 */
export async function recoverCheckpoint(dir: string, logger: Logger, fs: RunDirFs = nodeRunDirFs): Promise<CheckpointProgress | undefined> {
  const best = newestComplete(dir);
  const final = join(dir, CHECKPOINT_DIR);
  if (best && best.name !== CHECKPOINT_DIR) {
    logger.warn(`${final} was left mid-swap by an interrupted run; recovered it from ${join(dir, best.name)} (stage ${best.progress.stageIndex} step ${best.progress.step})`);
    await fs.rm(final); // an incomplete one (state.json missing)
    await fs.rename(join(dir, best.name), final);
    await fs.syncDir(dir);
  }
  for (const name of checkpointFolders(dir)) if (name !== CHECKPOINT_DIR || !best) await fs.rm(join(dir, name));
  return best?.progress;
}
