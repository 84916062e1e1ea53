import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MllmError, type Logger } from '@mllm/core';
import { evaluate, type Answerer } from '@mllm/eval';
import { DECODER_OPS, OnnxMultimodalModel, exportModel, resolveModelFile, type DecoderOps, type OnnxManifest, type WeightFormat } from '@mllm/onnx';
import { loadTokenizer, type TextTokenizer } from '@mllm/tokenizer';
import { fewShotImages, fewShotPromptIds } from './few-shot';
import { parseRunConfig } from '@mllm/training';
import { buildEvalSet } from './eval-set';
import { evaluateHeldOut } from './held-out-eval';
import { createWorld } from './session';
import { openRun } from './open-run';
import { registryFor } from './plugins';
import { exportHfCheckpoint, type HfExportResult } from './export-hf';

const WEIGHT_FORMATS: readonly WeightFormat[] = ['fp32', 'fp16', 'int8'];
/** `--format hf` dtypes by their short name, to transformers' torch_dtype names. */
const HF_DTYPE_NAMES: Record<string, string> = { fp32: 'float32', fp16: 'float16', bf16: 'bfloat16' };
/** transformers' long names are accepted too, for both formats. */
const DTYPE_ALIASES: Record<string, string> = { float32: 'fp32', float16: 'fp16', bfloat16: 'bf16' };

export interface ExportCommandOptions {
  checkpoint: string;
  out: string;
  /** Weight dtype: fp32 (default); fp16 or int8 for onnx; fp16 or bf16 for hf (float32 / float16 / bfloat16 are accepted too). */
  dtype?: string;
  /** The same as dtype (its older name). */
  weights?: string;
  maxPositions?: number;
  /** `onnx` (default): the transformers.js / onnxruntime folder; `hf`: the LlavaForConditionalGeneration folder transformers loads. */
  format?: string;
  /** The onnx decoder's ops: `contrib` (default; onnxruntime's GroupQueryAttention where the LLM allows) or `standard`. */
  ops?: string;
  logger: Logger;
}

/** `mllm export`: a finished run folder -> the ONNX folder transformers.js and `--runtime onnx` load, or (`format: "hf"`) the HF LLaVA folder. */
export async function exportCheckpoint(options: ExportCommandOptions): Promise<OnnxManifest | HfExportResult> {
  const format = options.format ?? 'onnx';
  if (options.dtype !== undefined && options.weights !== undefined && options.dtype !== options.weights)
    throw new MllmError(`mllm export: --dtype ${options.dtype} and --weights ${options.weights} disagree; give one of them`);
  const given = options.dtype ?? options.weights;
  const dtype = given === undefined ? 'fp32' : (DTYPE_ALIASES[given] ?? given);
  if (format === 'hf') {
    if (!(dtype in HF_DTYPE_NAMES)) throw new MllmError(`--dtype must be one of ${Object.keys(HF_DTYPE_NAMES).join(', ')} for --format hf, got ${JSON.stringify(given)}`);
    return exportHfCheckpoint({ checkpoint: options.checkpoint, out: options.out, dtype: HF_DTYPE_NAMES[dtype], maxPositions: options.maxPositions, logger: options.logger });
  }
  if (format !== 'onnx') throw new MllmError(`--format must be onnx or hf, got ${JSON.stringify(options.format)}`);
  const ops = options.ops ?? 'contrib';
  if (!(DECODER_OPS as readonly string[]).includes(ops)) throw new MllmError(`--ops must be one of ${DECODER_OPS.join(', ')}, got ${JSON.stringify(options.ops)}`);
  const weights = dtype as WeightFormat;
  if (!WEIGHT_FORMATS.includes(weights)) throw new MllmError(`--dtype must be one of ${WEIGHT_FORMATS.join(', ')} for --format onnx, got ${JSON.stringify(given)}`);
  const session = await openRun(options.checkpoint);
  try {
    const manifest = await exportModel(session.model, options.out, {
      // the run's own registry: the built-in exporters plus those its plugins registered
      exporters: session.registry.onnx,
      weights,
      tokenizer: session.tokenizer,
      maxPositions: options.maxPositions,
      decoderOps: ops as DecoderOps,
      maxNewTokens: session.config.eval.maxNewTokens,
      runConfig: session.config,
    });
    options.logger.info(`exported ${options.checkpoint} to ${options.out} (${weights} weights): ${Object.values(manifest.files).join(', ')}, config.json (llava), tokenizer, mllm.json`);
    return manifest;
  } finally {
    session.model.dispose();
  }
}

/** onnxruntime's own errors about a folder become MllmErrors, so the CLI prints them without a stack. */
export async function loadOnnx(dir: string, threads?: number, logger?: Logger): Promise<OnnxMultimodalModel> {
  try {
    return await OnnxMultimodalModel.load(dir, { threads, ...(logger && { logger }) });
  } catch (e) {
    if ((e as Error).name === 'OnnxModelError') throw new MllmError((e as Error).message);
    throw e;
  }
}

/**
 * The tokenizer an ONNX folder ships with, checked against its mllm.json (which load checked
 * against the graphs): the decoder's logits index this vocabulary, so one of another size or
 * with other special ids would decode the wrong words.
 */
export async function loadOnnxTokenizer(model: OnnxMultimodalModel, dir: string): Promise<TextTokenizer> {
  // the tokenizer files, like the graphs, must be regular files inside the folder
  for (const name of ['tokenizer.json', 'tokenizer_config.json']) await resolveModelFile(dir, name);
  const tokenizer = await loadTokenizer(dir); // the kind the export saved: word or byte-level BPE
  const file = join(dir, 'tokenizer.json');
  const { llm, special } = model.manifest;
  const fail = (what: string): never => {
    throw new MllmError(`${file}: ${what}; mllm.json was edited or the tokenizer comes from another export, re-export the model with \`mllm export\``);
  };
  if (tokenizer.vocabSize !== llm.vocabSize) fail(`has ${tokenizer.vocabSize} tokens but mllm.json llm.vocabSize and the decoder's logits have ${llm.vocabSize}`);
  const pairs = [
    ['imageTokenId', special.imageTokenId, tokenizer.special.image],
    ['padId', special.padId, tokenizer.special.pad],
    ['bos', special.bos, tokenizer.special.bos],
    ['eos', special.eos, tokenizer.special.eos],
    ['end', special.end, tokenizer.special.end],
  ] as const;
  for (const [field, id, ours] of pairs) if (id !== undefined && id !== ours) fail(`has id ${ours} where mllm.json special.${field} is ${id}`);
  return tokenizer;
}

/** Greedy answers from the ONNX model, the same prompts (demonstrations included) and stops as the tfjs answerer. */
export function onnxAnswerer(model: OnnxMultimodalModel, tokenizer: TextTokenizer, image: (sceneId: string) => Float32Array, maxNewTokens: number): Answerer {
  return {
    async answer(requests) {
      const prompts = requests.map((r) => {
        const demonstrations = (r.demonstrations ?? []).map((d) => ({ image: d.sceneId, question: d.question, answer: d.answer }));
        return { ids: fewShotPromptIds(tokenizer, demonstrations, r.prompt), images: fewShotImages(demonstrations, r.sceneId).map(image) };
      });
      const outputs = await model.generate(prompts, { maxNewTokens, stopTokens: [tokenizer.special.end, tokenizer.special.eos] });
      return outputs.map((ids) => tokenizer.decode(ids));
    },
  };
}

/**
 * `mllm eval --runtime onnx --model DIR`: the run's test set (rebuilt from the run config the
 * export kept in mllm.json) answered by onnxruntime; writes DIR/eval-onnx.json.
 */
export async function evaluateOnnx(options: { model: string; threads?: number; logger?: Logger }) {
  const model = await loadOnnx(options.model, options.threads, options.logger);
  try {
    if (model.manifest.runConfig === undefined)
      throw new MllmError(`${join(options.model, 'mllm.json')}: field "runConfig" is missing; export from a run folder (mllm export --checkpoint RUN_DIR) to evaluate on its test set`);
    const { registry, raw } = await registryFor(model.manifest.runConfig, options.model);
    const config = parseRunConfig(raw, registry);
    const world = createWorld(config);
    const tokenizer = await loadOnnxTokenizer(model, options.model);
    const answerer = onnxAnswerer(model, tokenizer, (id) => world.image(id), config.eval.maxNewTokens);
    const heldOut = await evaluateHeldOut(answerer, world, config); // data.instructions: absent by default
    const result = { ...(await evaluate(answerer, buildEvalSet(world, config), { batchSize: config.eval.batchSize })), ...(heldOut && { heldOut }) };
    await writeFile(join(options.model, 'eval-onnx.json'), JSON.stringify(result, null, 2));
    return result;
  } finally {
    await model.release();
  }
}
