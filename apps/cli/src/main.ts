import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { ConfigError, MllmError, initBackend, type Logger } from '@mllm/core';
import type { EvalReport } from '@mllm/eval';
import { writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { chatOnnx, evaluateOnnx, exportCheckpoint, forwardHf, formatLintReport, lintData, openRun, readConfig, run, sweep, sweepMarkdown } from '@mllm/run';
import { generationOptionsFromFlags } from './generation-flags';
import { positiveInt } from './flags';
import { progressBars } from './progress';

const USAGE = `mllm - build, train and evaluate multimodal LLMs

  mllm run <config.json> [--out DIR] [--backend B] [--seed N] [--resume] [--force] [--on-bad-sample skip|fail] [--workers N]
  mllm sweep <config.json>... [--out DIR] [--seeds N] [--jobs N] [--backend B] [--force | --resume]
  mllm eval --checkpoint DIR [--backend B]
  mllm chat --checkpoint DIR --image FILE.png --prompt TEXT [--max-new-tokens N] [--temperature T] [--top-k K]
            [--top-p P] [--repetition-penalty R] [--seed N] [--stop TEXT]...
  mllm forward --hf DIR --input IN.json --output OUT.json   (run a HuggingFace checkpoint once)
  mllm export --checkpoint DIR --out DIR [--weights fp32|fp16|int8] [--max-positions N]   (ONNX, transformers.js layout)
  mllm eval --runtime onnx --model DIR [--threads N]
  mllm chat --runtime onnx --model DIR --image FILE.png --prompt TEXT [--threads N] [decoding flags as above]
  mllm lint-data <data.json|jsonl> [--images DIR] [--config C] [--max-length N] [--show N]

Backends: auto (default), tensorflow-gpu, tensorflow, wasm, cpu (or env MLLM_BACKEND).
chat decodes greedily unless --temperature > 0; sampling uses --seed (default 0), so a chat repeats.`;

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
        temperature: { type: 'string' },
        'top-k': { type: 'string' },
        'top-p': { type: 'string' },
        'repetition-penalty': { type: 'string' },
        stop: { type: 'string', multiple: true },
        seeds: { type: 'string' },
        'on-bad-sample': { type: 'string' },
        workers: { type: 'string' },
        jobs: { type: 'string' },
        images: { type: 'string' },
        config: { type: 'string' },
        'max-length': { type: 'string' },
        show: { type: 'string' },
        hf: { type: 'string' },
        input: { type: 'string' },
        output: { type: 'string' },
        runtime: { type: 'string' },
        model: { type: 'string' },
        weights: { type: 'string' },
        threads: { type: 'string' },
        'max-positions': { type: 'string' },
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
      const workers = values.workers === undefined ? undefined : Number(values.workers);
      if (workers !== undefined && !(Number.isInteger(workers) && workers >= 1)) throw new MllmError(`--workers must be a whole number >= 1 (data-parallel participants, e.g. the number of cores), got ${values.workers}`);
      const report = await run(await readConfig(configPath), {
        baseDir: dirname(configPath),
        workers,
        onBadSample,
        out,
        force: values.force,
        resume: values.resume,
        backend: values.backend,
        seed,
        logger: consoleLogger,
        onProgress: progressBars(),
      });
      printSummary(report.eval!, out, report.wallSeconds, report.backend);
      return 0;
    }
    if (command === 'sweep') {
      const seeds = Number(values.seeds ?? 1);
      if (!Number.isInteger(seeds) || seeds < 1) throw new MllmError(`--seeds must be an integer >= 1, got ${values.seeds}`);
      const out = values.out ?? join('runs', 'sweep');
      const jobs = values.jobs === undefined ? undefined : Number(values.jobs);
      const rows = await sweep(positionals, { out, seeds, jobs, force: values.force, resume: values.resume, backend: values.backend, logger: consoleLogger, onProgress: progressBars() });
      process.stdout.write(`${sweepMarkdown(rows, seeds)}\nwritten to ${out}/sweep.md, sweep.json, sweep-val-loss.svg\n`);
      return 0;
    }
    if (values.runtime !== undefined && values.runtime !== 'tfjs' && values.runtime !== 'onnx') throw new MllmError(`--runtime must be tfjs or onnx, got ${values.runtime}`);
    if (command === 'export') {
      if (!values.checkpoint || !values.out) throw new MllmError('mllm export needs --checkpoint DIR (a finished run folder) and --out DIR');
      await initBackend({ backend: values.backend, logger: consoleLogger });
      await exportCheckpoint({ checkpoint: values.checkpoint, out: values.out, weights: values.weights, maxPositions: positiveInt('--max-positions', values['max-positions']), logger: consoleLogger });
      return 0;
    }
    if (command === 'eval' && values.runtime === 'onnx') {
      if (!values.model) throw new MllmError('mllm eval --runtime onnx needs --model DIR (a folder written by mllm export)');
      const result = await evaluateOnnx({ model: values.model, threads: positiveInt('--threads', values.threads) });
      printSummary(result, join(values.model, 'eval-onnx.json'));
      return 0;
    }
    if (command === 'chat' && values.runtime === 'onnx') {
      if (!values.model || !values.image || !values.prompt)
        throw new MllmError('mllm chat --runtime onnx needs --model DIR --image FILE.png --prompt "what color is the circle ?"');
      const options = generationOptionsFromFlags(values, { maxNewTokens: 40 });
      await chatOnnx({ model: values.model, image: values.image, prompt: values.prompt, options, threads: positiveInt('--threads', values.threads), write: (t) => process.stdout.write(t) });
      return 0;
    }
    if (command === 'eval') {
      if (!values.checkpoint) throw new MllmError('mllm eval needs --checkpoint DIR (a finished run folder)');
      await initBackend({ backend: values.backend, logger: consoleLogger });
      const opened = await openRun(values.checkpoint);
      const result = await opened.evaluate();
      await writeFile(join(values.checkpoint, 'eval.json'), JSON.stringify(result, null, 2));
      printSummary(result, values.checkpoint);
      return 0;
    }
    if (command === 'chat') {
      if (!values.checkpoint || !values.image || !values.prompt)
        throw new MllmError('mllm chat needs --checkpoint DIR --image FILE.png --prompt "what color is the circle ?"');
      const options = generationOptionsFromFlags(values, { maxNewTokens: 40 });
      await initBackend({ backend: values.backend, logger: consoleLogger });
      const opened = await openRun(values.checkpoint);
      for await (const event of opened.stream(values.image, values.prompt, options)) if (event.type === 'token' && event.text) process.stdout.write(event.text);
      process.stdout.write('\n');
      return 0;
    }
    if (command === 'forward') {
      if (!values.hf || !values.input || !values.output) throw new MllmError('mllm forward needs --hf DIR --input IN.json --output OUT.json');
      await initBackend({ backend: values.backend, logger: consoleLogger });
      const { kind, shape } = await forwardHf(values.hf, values.input, values.output);
      process.stdout.write(`${kind} forward: ${kind === 'vision' ? 'last hidden state' : 'logits'} [${shape.join(', ')}] written to ${values.output}\n`);
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
    throw new MllmError(`unknown command "${command}"; one of: run, sweep, eval, chat, lint-data, forward, export (mllm --help)`);
  } catch (e) {
    if (e instanceof MllmError || e instanceof ConfigError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`error: ${(e as Error).message}\n`);
      return 2;
    }
    throw e;
  }
}

function printSummary(r: EvalReport, out: string, wallSeconds?: number, backend?: string): void {
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
