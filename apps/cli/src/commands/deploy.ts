import { Command } from 'commander';
import { MllmError, initBackend } from '@mllm/core';
import { exportCheckpoint, forwardHf } from '@mllm/run';
import { positiveInt } from '../flags';
import { BACKEND_HELP, helpHint, withExamples } from '../help';
import { consoleLogger } from '../output';

interface ExportFlags {
  checkpoint?: string;
  out?: string;
  weights?: string;
  dtype?: string;
  maxPositions?: string;
  format?: string;
  ops?: string;
  backend?: string;
}

/** `mllm export`: a run folder as ONNX files in the transformers.js layout. */
export function exportCommand(): Command {
  const command = new Command('export')
    .description('write a finished run as ONNX (transformers.js layout) for onnxruntime in Node or the browser, or as an HF LLaVA folder (--format hf)')
    .option('--checkpoint <dir>', 'a finished run folder')
    .option('--out <dir>', 'folder to write the ONNX files, tokenizer and mllm.json to')
    .option('--format <format>', 'onnx (default) or hf (a LlavaForConditionalGeneration folder for transformers)')
    .option('--dtype <dtype>', 'weight dtype: fp32 (default); fp16 or int8 for onnx (files named as transformers.js picks them: *.onnx, *_fp16.onnx, *_quantized.onnx); fp16 or bf16 for hf')
    .option('--weights <dtype>', 'the same as --dtype')
    .option('--max-positions <n>', 'longest sequence the exported RoPE table covers')
    .option('--ops <ops>', "onnx decoder ops: contrib (default; onnxruntime's fused GroupQueryAttention, for Llama-style LLMs with head width a multiple of 16) or standard (ONNX standard ops only)")
    .option('--backend <name>', BACKEND_HELP)
    .action(async (flags: ExportFlags) => {
      if (!flags.checkpoint || !flags.out) throw new MllmError('mllm export needs --checkpoint DIR (a finished run folder) and --out DIR');
      if (flags.dtype && flags.weights && flags.dtype !== flags.weights) throw new MllmError(`mllm export: --dtype ${flags.dtype} and --weights ${flags.weights} disagree; give one of them`);
      await initBackend({ backend: flags.backend, logger: consoleLogger });
      await exportCheckpoint({ checkpoint: flags.checkpoint, out: flags.out, dtype: flags.dtype ?? flags.weights, maxPositions: positiveInt('--max-positions', flags.maxPositions), format: flags.format, ops: flags.ops, logger: consoleLogger });
    });
  return withExamples(helpHint(command), [
    ['mllm export --checkpoint runs/default --out exports/default', 'fp32 ONNX files; then mllm chat --runtime onnx --model exports/default'],
    ['mllm export --checkpoint runs/default --out exports/default-int8 --dtype int8', 'int8 weights, about a quarter of the size'],
    ['mllm export --checkpoint runs/llava --out exports/llava-hf --format hf --dtype bf16', 'LlavaForConditionalGeneration.from_pretrained(\'exports/llava-hf\') in transformers'],
  ]);
}

interface ForwardFlags {
  hf?: string;
  input?: string;
  output?: string;
  backend?: string;
}

/** `mllm forward`: one forward pass of an HF checkpoint, to compare with transformers. */
export function forwardCommand(): Command {
  const command = new Command('forward')
    .description('run a HuggingFace checkpoint (causal LM or CLIP/SigLIP vision tower) once on JSON input')
    .option('--hf <dir>', 'HuggingFace model folder (config.json, safetensors)')
    .option('--input <file>', '{ "inputIds": [[...]] } or { "pixelValues": [...] }')
    .option('--output <file>', 'JSON file to write the logits or hidden states to')
    .option('--backend <name>', BACKEND_HELP)
    .action(async (flags: ForwardFlags) => {
      if (!flags.hf || !flags.input || !flags.output) throw new MllmError('mllm forward needs --hf DIR --input IN.json --output OUT.json');
      await initBackend({ backend: flags.backend, logger: consoleLogger });
      const { kind, shape } = await forwardHf(flags.hf, flags.input, flags.output);
      process.stdout.write(`${kind} forward: ${kind === 'vision' ? 'last hidden state' : 'logits'} [${shape.join(', ')}] written to ${flags.output}\n`);
    });
  return withExamples(helpHint(command), [
    ['mllm forward --hf models/TinyLlama-1.1B --input in.json --output out.json', 'logits [batch][seq][vocab], to compare with transformers in Python'],
  ]);
}
