import { spawn } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MllmError } from '@mllm/core';

/** What a sweep run's own process is told (run-child.ts reads it). */
export interface ChildRunArgs {
  configPath: string;
  /** `--set path=value` overrides, applied when the child loads the config. */
  set?: readonly string[];
  /** Overrides the config's seed; absent: the config's own. */
  seed?: number;
  out: string;
  mode: ChildRun['mode'];
  backend?: string;
  threads?: number;
}

/** One run of a sweep, as a separate process. */
export interface ChildRun {
  /** "highres-tiles seed 1", for messages. */
  label: string;
  configPath: string;
  set?: readonly string[];
  seed: number;
  out: string;
  /** What the run does with `out`: train from scratch over it, continue its checkpoint, or neither (it must be empty). */
  mode: 'force' | 'resume' | 'fresh';
  backend?: string;
  threads?: number;
  /** The run's stdout and stderr go here, so parallel runs do not interleave on the terminal. */
  logPath: string;
}

/**
 * The script children run. One level up from both `src/` (tests) and `dist/` (the build), so
 * both find the same script: the built one.
 */
export const CHILD_ENTRY = new URL('../dist/run-child.js', import.meta.url);

/**
 * Runs one sweep run in its own process: tfjs keeps one backend per process, so runs that
 * share a process cannot train at the same time. Resolves when it exits 0.
 */
export async function runInChild(run: ChildRun, entry: URL = CHILD_ENTRY): Promise<void> {
  const childArgs: ChildRunArgs = { configPath: run.configPath, ...(run.set?.length && { set: run.set }), seed: run.seed, out: run.out, mode: run.mode, ...(run.backend && { backend: run.backend }), ...(run.threads && { threads: run.threads }) };
  const args = [fileURLToPath(entry), JSON.stringify(childArgs)];
  let log: number;
  try {
    log = openSync(run.logPath, 'w');
  } catch (e) {
    throw new MllmError(`sweep: ${run.label} did not start: cannot write its log ${run.logPath} (${(e as Error).message})`);
  }
  return new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', log, log] });
    child.on('error', (e) => reject(new MllmError(`sweep: ${run.label} could not start (${e.message})`)));
    child.on('exit', (code, signal) => {
      if (code === 0) resolve();
      else {
        const why = childError(run.logPath);
        reject(new MllmError(`sweep: ${run.label} failed${why ? `: ${why}` : ''} (${signal ? `signal ${signal}` : `exit code ${code}`}); its output is in ${run.logPath}`));
      }
    });
  }).finally(() => closeSync(log));
}

/**
 * The child's own `error: <message>` line (run-child.ts writes one before it exits), so the
 * sweep says why a run failed in one line; undefined when it wrote none (killed, crashed).
 */
export function childError(logPath: string): string | undefined {
  let log: string;
  try {
    log = readFileSync(logPath, 'utf8');
  } catch {
    return undefined;
  }
  const lines = log.split('\n');
  let at = lines.length - 1;
  while (at >= 0 && !lines[at]!.startsWith('error: ')) at--;
  if (at < 0) return undefined;
  // a config error lists its paths on indented lines below; joined, so one run is one line
  const detail = [];
  for (let i = at + 1; i < lines.length && /^\s+\S/.test(lines[i]!) && !/^\s+at /.test(lines[i]!); i++) detail.push(lines[i]!.trim());
  return [lines[at]!.slice('error: '.length), ...detail].join(' ');
}

/**
 * Runs every task with at most `limit` in flight, in order of the list, and waits for all of
 * them even when one fails: the others' finished runs are kept for `--resume`. The results
 * are in the order of the list.
 */
export async function runPool<T>(tasks: (() => Promise<T>)[], limit: number): Promise<PromiseSettledResult<T>[]> {
  if (!Number.isInteger(limit) || limit < 1) throw new MllmError(`--jobs must be a whole number >= 1, got ${limit}`);
  const results: PromiseSettledResult<T>[] = new Array(tasks.length);
  let next = 0;
  const lane = async () => {
    while (next < tasks.length) {
      const i = next++;
      try {
        results[i] = { status: 'fulfilled', value: await tasks[i]!() };
      } catch (reason) {
        results[i] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, lane));
  return results;
}
