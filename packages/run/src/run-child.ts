// Entry of one sweep run in a process of its own (`sweep --jobs N`): tfjs holds one backend per
// process, so runs trained at once each need one. Argument: the ChildRunArgs as JSON.
import { dirname } from 'node:path';
import { ConfigError, MllmError } from '@mllm/core';
import { loadConfig } from './config-load';
import { run } from './run';
import type { ChildRunArgs } from './sweep-jobs';

const write = (line: string) => process.stderr.write(`${line}\n`);

async function main(args: ChildRunArgs): Promise<void> {
  const raw = await loadConfig(args.configPath, { set: args.set });
  const lastLine = new Map<number, number>();
  await run(raw, {
    out: args.out,
    seed: args.seed,
    force: args.mode === 'force',
    resume: args.mode === 'resume',
    backend: args.backend,
    threads: args.threads,
    baseDir: dirname(args.configPath),
    logger: { info: write, warn: (m) => write(`warning: ${m}`) },
    onProgress: (e) => {
      // a line per tenth of a stage: a log file, not a terminal
      if (e.type !== 'step') return;
      const tenth = Math.floor((10 * e.step) / Math.max(1, e.steps));
      if (lastLine.get(e.index) === tenth && e.step !== e.steps) return;
      lastLine.set(e.index, tenth);
      write(`${e.stage} ${e.step}/${e.steps} loss ${e.loss.toFixed(4)}`);
    },
  });
  write(`written to ${args.out}`);
}

/** Errors of packages that keep clear of @mllm/core, each naming its file as an MllmError does. */
const EXPLAINED_BY_NAME = new Set(['OnnxModelError', 'TokenizerFileError']);

main(JSON.parse(process.argv[2] ?? '{}') as ChildRunArgs).catch((e: unknown) => {
  // the exit codes of the mllm command: 2 for an error the user can fix (mllm's own, or the OS
  // refusing a path), 1 for a bug. The `error:` line is what the parent sweep reports; the
  // stack of a bug stays in the log file, for the report.
  const error = e instanceof Error ? e : new Error(String(e));
  const explained = e instanceof MllmError || e instanceof ConfigError || EXPLAINED_BY_NAME.has(error.name);
  const system = typeof (e as NodeJS.ErrnoException).syscall === 'string';
  write(`error: ${explained || system ? '' : 'internal error: '}${error.message}`);
  if (!explained) write(error.stack ?? '');
  process.exitCode = explained || system ? 2 : 1;
});
