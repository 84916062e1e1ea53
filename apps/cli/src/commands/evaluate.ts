import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Command } from 'commander';
import { MllmError, initBackend } from '@mllm/core';
import { evaluateOnnx, openRun } from '@mllm/run';
import { positiveInt } from '../flags';
import { generationOptionsFromFlags, mitigationFlags, withMitigationFlags, type MitigationFlags } from '../generation-flags';
import { BACKEND_HELP, helpHint, withExamples } from '../help';
import { consoleLogger } from '../output';
import { printSummary } from '../print-eval';
import { evalProgress } from '../progress';

interface EvalFlags extends MitigationFlags {
  checkpoint?: string;
  runtime?: string;
  model?: string;
  threads?: string;
  backend?: string;
  temperature?: string;
  topK?: string;
  topP?: string;
  seed?: string;
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
    .option('--temperature <t>', 'sample every answer at this temperature instead of greedy decoding (tfjs runtime)')
    .option('--top-k <k>', 'sample among the k most likely tokens only')
    .option('--top-p <p>', 'sample from the nucleus of probability p only')
    .option('--seed <n>', 'seed of the sampled answers (default 0)')
    .action(async (flags: EvalFlags) => {
      if (runtimeOf(flags.runtime) === 'onnx') {
        if (flags.vcd !== undefined || flags.pai !== undefined) throw new MllmError('--vcd and --pai change how the model attends and which logits it contrasts, which the exported ONNX graph does not do; evaluate with --checkpoint (tfjs runtime) for them');
        if (flags.temperature !== undefined) throw new MllmError('--temperature samples on the tfjs runtime only; evaluate with --checkpoint for sampled answers');
        if (!flags.model) throw new MllmError('mllm eval --runtime onnx needs --model DIR (a folder written by mllm export)');
        const result = await evaluateOnnx({ model: flags.model, threads: positiveInt('--threads', flags.threads), logger: consoleLogger });
        printSummary(result, join(flags.model, 'eval-onnx.json'));
        return;
      }
      if (!flags.checkpoint) throw new MllmError('mllm eval needs --checkpoint DIR (a finished run folder)');
      const { contrastive, imageAttention, imageNoise, temperature, topK, topP, seed } = generationOptionsFromFlags(
        { ...mitigationFlags(flags), temperature: flags.temperature, 'top-k': flags.topK, 'top-p': flags.topP, seed: flags.seed },
        { maxNewTokens: 1 },
      );
      const mitigated = [contrastive && contrastive.alpha > 0 && 'vcd', imageAttention && imageAttention.alpha > 0 && 'pai'].filter(Boolean);
      const sampling = temperature !== undefined && temperature > 0 ? { temperature, topK, topP, seed: seed ?? 0 } : undefined;
      // a mitigated or sampled evaluation is written beside the plain one, never over it
      const variant = [...mitigated, ...(sampling ? [`t${temperature}`, ...(sampling.seed !== 0 ? [`seed${sampling.seed}`] : [])] : [])];
      const file = variant.length > 0 ? `eval-${variant.join('-')}.json` : 'eval.json';
      await initBackend({ backend: flags.backend, logger: consoleLogger });
      const opened = await openRun(flags.checkpoint);
      try {
        const decoding = mitigated.length > 0 ? { contrastive, imageAttention, imageNoise } : undefined;
        const result = await opened.evaluate({ onProgress: evalProgress('eval'), decoding, sampling });
        await writeFile(join(flags.checkpoint, file), JSON.stringify(result, null, 2));
        printSummary(result, join(flags.checkpoint, file));
      } finally {
        opened.dispose();
      }
    });
  return withExamples(helpHint(withMitigationFlags(command)), [
    ['mllm eval --checkpoint runs/default', 'score runs/default again; writes runs/default/eval.json'],
    ['mllm eval --checkpoint runs/default --pai 0.5', 'the same with the image-attention boost; writes runs/default/eval-pai.json'],
    ['mllm eval --checkpoint runs/default --temperature 1', 'every answer sampled at temperature 1 (seed 0); writes runs/default/eval-t1.json'],
    ['mllm eval --runtime onnx --model exports/default --threads 2', 'the same scores from an ONNX export (mllm export)'],
  ]);
}
