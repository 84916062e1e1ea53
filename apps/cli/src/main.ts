import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { ConfigError, MllmError, initBackend, type Logger } from '@mllm/core';
import { loadImageFile } from '@mllm/data';
import { answerImage } from './answerer';
import { evaluateSession, runPipeline } from './pipeline';
import { readConfig } from './config-file';
import { openRun } from './session';
import { formatLintReport, lintData, positiveInt } from './lint-data';
import { runSweep, sweepMarkdown } from './sweep';
import { writeFile } from 'node:fs/promises';

const USAGE = `mllm - build, train and evaluate multimodal LLMs

  mllm run <config.json> [--out DIR] [--backend B] [--seed N] [--resume] [--force] [--on-bad-sample skip|fail]
  mllm sweep <config.json>... [--out DIR] [--seeds N] [--backend B] [--force]
  mllm eval --checkpoint DIR [--backend B]
  mllm chat --checkpoint DIR --image FILE.png --prompt TEXT [--max-new-tokens N]
  mllm lint-data <data.json|jsonl> [--images DIR] [--config C] [--max-length N] [--show N]

Backends: auto (default), tensorflow-gpu, tensorflow, wasm, cpu (or env MLLM_BACKEND).`;

const consoleLogger: Logger = {
  info: (m) => process.stderr.write(`${m}\n`),
  warn: (m) => process.stderr.write(`warning: ${m}\n`),
};

/** Entry point; returns the process exit code. Known failures print their message, not a stack. */
export async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return argv.length === 0 ? 1 : 0;
  }
  const [command, ...rest] = argv;
  try {
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      options: {
        out: { type: 'string' },
        backend: { type: 'string' },
        seed: { type: 'string' },
        resume: { type: 'boolean' },
        force: { type: 'boolean' },
        checkpoint: { type: 'string' },
        image: { type: 'string' },
        prompt: { type: 'string' },
        'max-new-tokens': { type: 'string' },
        seeds: { type: 'string' },
        'on-bad-sample': { type: 'string' },
        images: { type: 'string' },
        config: { type: 'string' },
        'max-length': { type: 'string' },
        show: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    if (command === 'run') {
      const configPath = positionals[0];
      if (!configPath) throw new MllmError('mllm run needs a config file: mllm run configs/default.json');
      const seed = values.seed === undefined ? undefined : Number(values.seed);
      if (seed !== undefined && !Number.isInteger(seed)) throw new MllmError(`--seed must be an integer, got ${values.seed}`);
      const out = values.out ?? join('runs', configPath.replace(/^.*\//, '').replace(/\.json$/, ''));
      const onBadSample = values['on-bad-sample'];
      if (onBadSample !== undefined && onBadSample !== 'skip' && onBadSample !== 'fail') throw new MllmError(`--on-bad-sample must be skip or fail, got ${onBadSample}`);
      const report = await runPipeline(await readConfig(configPath), {
        onBadSample,
        out,
        force: values.force,
        resume: values.resume,
        backend: values.backend,
        seed,
        logger: consoleLogger,
        progress: true,
      });
      printSummary(report.eval!, out, report.wallSeconds, report.backend);
      return 0;
    }
    if (command === 'sweep') {
      const seeds = Number(values.seeds ?? 1);
      if (!Number.isInteger(seeds) || seeds < 1) throw new MllmError(`--seeds must be an integer >= 1, got ${values.seeds}`);
      const out = values.out ?? join('runs', 'sweep');
      const rows = await runSweep(positionals, { out, seeds, force: values.force, backend: values.backend, logger: consoleLogger, progress: true });
      process.stdout.write(`${sweepMarkdown(rows, seeds)}\nwritten to ${out}/sweep.md, sweep.json, sweep-val-loss.svg\n`);
      return 0;
    }
    if (command === 'eval') {
      if (!values.checkpoint) throw new MllmError('mllm eval needs --checkpoint DIR (a finished run folder)');
      await initBackend({ backend: values.backend, logger: consoleLogger });
      const session = await openRun(values.checkpoint);
      const result = await evaluateSession(session);
      await writeFile(join(values.checkpoint, 'eval.json'), JSON.stringify(result, null, 2));
      printSummary(result, values.checkpoint);
      return 0;
    }
    if (command === 'chat') {
      if (!values.checkpoint || !values.image || !values.prompt)
        throw new MllmError('mllm chat needs --checkpoint DIR --image FILE.png --prompt "what color is the circle ?"');
      await initBackend({ backend: values.backend, logger: consoleLogger });
      const session = await openRun(values.checkpoint);
      const image = await loadImageFile(values.image, session.model.encoder.imageSize);
      const maxNew = Number(values['max-new-tokens'] ?? 40);
      process.stdout.write(`${answerImage(session.model, session.tokenizer, image, values.prompt, maxNew)}\n`);
      return 0;
    }
    if (command === 'lint-data') {
      const file = positionals[0];
      if (!file) throw new MllmError('mllm lint-data needs a data file: mllm lint-data data.jsonl --images DIR [--config configs/default.json]');
      const show = values.show === undefined ? undefined : Number(values.show);
      if (show !== undefined && !(Number.isInteger(show) && show >= 0)) throw new MllmError(`--show must be an integer >= 0, got ${values.show}`);
      const report = await lintData(file, {
        imageDir: values.images,
        configPath: values.config,
        maxLength: positiveInt('--max-length', values['max-length']),
        show,
        backend: values.backend,
        logger: consoleLogger,
      });
      process.stdout.write(`${formatLintReport(report)}\n`);
      return report.problems > 0 ? 1 : 0;
    }
    throw new MllmError(`unknown command "${command}"; one of: run, sweep, eval, chat, lint-data (mllm --help)`);
  } catch (e) {
    if (e instanceof MllmError || e instanceof ConfigError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`error: ${(e as Error).message}\n`);
      return 2;
    }
    throw e;
  }
}

function printSummary(r: Awaited<ReturnType<typeof evaluateSession>>, out: string, wallSeconds?: number, backend?: string): void {
  const f = (x: number) => x.toFixed(3);
  const lines = [
    '',
    ...(['random', 'popular', 'adversarial'] as const).map(
      (s) => `POPE ${s.padEnd(11)} acc ${f(r.pope[s].accuracy)}  F1 ${f(r.pope[s].f1)}  precision ${f(r.pope[s].precision)}  recall ${f(r.pope[s].recall)}  yes ${f(r.pope[s].yesRatio)}`,
    ),
    `CHAIR      CHAIR_i ${f(r.chair.chairI)}  CHAIR_s ${f(r.chair.chairS)}  (${r.chair.captions} captions)`,
    ...(r.detail
      ? [
          `detail     CHAIR_i ${f(r.detail.chair.chairI)}  CHAIR_s ${f(r.detail.chair.chairS)}` +
            (r.detail.kinds ? `  hallucinated claims: existence ${f(r.detail.kinds.rates.existence)}  attribute ${f(r.detail.kinds.rates.attribute)}  relationship ${f(r.detail.kinds.rates.relationship)}` : ''),
        ]
      : []),
    `closed-set accuracy ${f(r.closedSet.accuracy)}  ${Object.entries(r.closedSet.byType).map(([k, v]) => `${k} ${f(v.accuracy)}`).join('  ')}`,
    ...(r.reasoning
      ? [`reasoning  direct ${f(r.reasoning.direct.accuracy)}  step by step ${f(r.reasoning.stepByStep.accuracy)}  (${Object.keys(r.reasoning.direct.byType).map((k) => `${k} ${f(r.reasoning!.direct.byType[k]!.accuracy)} / ${f(r.reasoning!.stepByStep.byType[k]?.accuracy ?? 0)}`).join('  ')})`]
      : []),
    ...(wallSeconds !== undefined ? [`wall time ${wallSeconds.toFixed(0)} s on ${backend}`] : []),
    `written to ${out}`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
}
