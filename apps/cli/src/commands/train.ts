import { dirname, join } from 'node:path';
import { Command } from 'commander';
import { MllmError } from '@mllm/core';
import { loadConfig, run, sweep, sweepMarkdown } from '@mllm/run';

import { backendName, integer, positiveInt, repeatable } from '../flags';
import { BACKEND_HELP, helpHint, withExamples } from '../help';
import { consoleLogger } from '../output';
import { printSummary } from '../print-eval';
import { progressBars } from '../progress';

/** Results depend on it: the same seed repeats bit for bit only with the same thread count (docs/reproducibility.md). */
const THREADS_HELP = 'onnxruntime matMul threads (default: env MLLM_THREADS, else every core); pin it to repeat a run on another machine';

interface RunFlags {
  out?: string;
  backend?: string;
  seed?: string;
  resume?: boolean;
  force?: boolean;
  onBadSample?: string;
  workers?: string;
  threads?: string;
  set?: string[];
}

/** `mllm run <config>`: trains and evaluates one config into a run folder. */
export function runCommand(): Command {
  const command = new Command('run')
    .description('train a config stage by stage, evaluate it, and write the run folder')
    .argument('<config.json>', 'run config (configs/default.json is the default model)')
    .option('--out <dir>', 'run folder (default: runs/<config name>)')
    .option('--backend <name>', BACKEND_HELP)
    .option('--seed <n>', "override the config's seed")
    .option('--resume', 'continue the run in --out from its last checkpoint (also one a kill left mid-save)')
    .option('--force', 'train again over an earlier run in --out (refused for a folder that is not a run folder of mllm)')
    .option('--on-bad-sample <policy>', 'skip or fail on a bad record of a LLaVA data file (default: the config, else fail)')
    .option('--workers <n>', 'data-parallel participants on this machine (wasm and cpu backends)')
    .option('--threads <n>', THREADS_HELP)
    .option('--set <path=value>', 'change one config value, e.g. --set stages[3].steps=200 (repeatable)', repeatable)
    .action(async (configPath: string, flags: RunFlags) => {
      const seed = integer('--seed', flags.seed);
      const backend = backendName(flags.backend);
      const onBadSample = flags.onBadSample;
      if (onBadSample !== undefined && onBadSample !== 'skip' && onBadSample !== 'fail') throw new MllmError(`--on-bad-sample must be skip or fail, got ${onBadSample}`);
      const workers = flags.workers === undefined ? undefined : Number(flags.workers);
      if (workers !== undefined && !(Number.isInteger(workers) && workers >= 1))
        throw new MllmError(`--workers must be a whole number >= 1 (data-parallel participants, e.g. the number of cores), got ${flags.workers}`);
      const out = flags.out ?? join('runs', configPath.replace(/^.*\//, '').replace(/\.json$/, ''));
      const raw = await loadConfig(configPath, { set: flags.set });
      const report = await run(raw, {
        baseDir: dirname(configPath),
        workers,
        threads: positiveInt('--threads', flags.threads),
        onBadSample,
        out,
        force: flags.force,
        resume: flags.resume,
        backend,
        seed,
        logger: consoleLogger,
        onProgress: progressBars(),
      });
      printSummary(report.eval!, out, report.wallSeconds, report.backend);
    });
  return withExamples(helpHint(command), [
    ['mllm run configs/default.json', 'train the default model into runs/default (what npm start does)'],
    ['mllm run configs/tiny.json --out runs/tiny --force', 'a smoke test in seconds, over an earlier runs/tiny'],
    ['mllm run configs/default.json --resume', 'continue an interrupted run from its last checkpoint'],
  ]);
}

interface SweepFlags {
  out?: string;
  seeds?: string;
  jobs?: string;
  backend?: string;
  threads?: string;
  force?: boolean;
  resume?: boolean;
  set?: string[];
}

/** `mllm sweep <configs...>`: every config with the same seeds, tabulated side by side. */
export function sweepCommand(): Command {
  const command = new Command('sweep')
    .description('train several configs with the same seeds and tabulate their evaluations (sweep.md, sweep.json)')
    .argument('[configs...]', 'run configs to compare')
    .option('--out <dir>', 'sweep folder, one run folder per config and seed inside (default: runs/sweep)')
    .option('--seeds <n>', 'seeds 0..n-1 for every config (default: 1)')
    .option('--jobs <n>', 'runs trained at once, each in its own process (default: 1)')
    .option('--backend <name>', BACKEND_HELP)
    .option('--threads <n>', THREADS_HELP)
    .option('--force', 'train again over earlier runs (run folders of mllm only)')
    .option('--resume', 'reuse finished runs and continue interrupted ones')
    .option('--set <path=value>', 'change one value in every config (repeatable)', repeatable)
    .action(async (configPaths: string[], flags: SweepFlags) => {
      const seeds = positiveInt('--seeds', flags.seeds) ?? 1;
      const backend = backendName(flags.backend);
      const out = flags.out ?? join('runs', 'sweep');
      const jobs = flags.jobs === undefined ? undefined : Number(flags.jobs);
      const rows = await sweep(configPaths, { out, seeds, jobs, set: flags.set, force: flags.force, resume: flags.resume, backend, threads: positiveInt('--threads', flags.threads), logger: consoleLogger, onProgress: progressBars() });
      process.stdout.write(`${sweepMarkdown(rows, seeds)}\nwritten to ${out}/sweep.md, sweep.json, sweep-val-loss.svg\n`);
    });
  return withExamples(helpHint(command), [
    ['mllm sweep configs/default.json configs/qformer.json --seeds 3', 'MLP projector against Q-Former, 3 seeds each, in runs/sweep'],
    ['mllm sweep configs/highres-*.json --jobs 2 --resume', 'two runs at a time; rerun after a failure to train only the rest'],
  ]);
}
