import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Command } from 'commander';
import { MllmError, initBackend } from '@mllm/core';
import { evaluateOnnx, openRun } from '@mllm/run';
import { positiveInt } from '../flags';
import { BACKEND_HELP, helpHint, withExamples } from '../help';
import { consoleLogger } from '../output';
import { printSummary } from '../print-eval';
import { evalProgress } from '../progress';

interface EvalFlags {
  checkpoint?: string;
  runtime?: string;
  model?: string;
  threads?: string;
  backend?: string;
}

/** `--runtime`: tfjs (a run folder) or onnx (an exported folder). */
export function runtimeOf(value: string | undefined): 'tfjs' | 'onnx' {
  if (value === undefined || value === 'tfjs' || value === 'onnx') return value ?? 'tfjs';
  throw new MllmError(`--runtime must be tfjs or onnx, got ${value}`);
}

/** `mllm eval`: the run's evaluation again, on tfjs from a run folder or on onnxruntime from an export. */
export function evalCommand(): Command {
  const command = new Command('eval')
    .description("score a finished run on its test scenes again (POPE, CHAIR, closed-set), on tfjs or on an ONNX export")
    .option('--checkpoint <dir>', 'a finished run folder (tfjs runtime)')
    .option('--runtime <name>', 'tfjs (default) or onnx')
    .option('--model <dir>', 'a folder written by mllm export (onnx runtime)')
    .option('--threads <n>', 'onnxruntime threads (onnx runtime)')
    .option('--backend <name>', BACKEND_HELP)
    .action(async (flags: EvalFlags) => {
      if (runtimeOf(flags.runtime) === 'onnx') {
        if (!flags.model) throw new MllmError('mllm eval --runtime onnx needs --model DIR (a folder written by mllm export)');
        const result = await evaluateOnnx({ model: flags.model, threads: positiveInt('--threads', flags.threads), logger: consoleLogger });
        printSummary(result, join(flags.model, 'eval-onnx.json'));
        return;
      }
      if (!flags.checkpoint) throw new MllmError('mllm eval needs --checkpoint DIR (a finished run folder)');
      await initBackend({ backend: flags.backend, logger: consoleLogger });
      const opened = await openRun(flags.checkpoint);
      try {
        const result = await opened.evaluate({ onProgress: evalProgress('eval') });
        await writeFile(join(flags.checkpoint, 'eval.json'), JSON.stringify(result, null, 2));
        printSummary(result, flags.checkpoint);
      } finally {
        opened.dispose();
      }
    });
  return withExamples(helpHint(command), [
    ['mllm eval --checkpoint runs/default', 'score runs/default again; writes runs/default/eval.json'],
    ['mllm eval --runtime onnx --model exports/default --threads 2', 'the same scores from an ONNX export (mllm export)'],
  ]);
}
