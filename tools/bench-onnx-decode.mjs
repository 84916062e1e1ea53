#!/usr/bin/env node
// Decode speed of an exported LLaVA at the size of SmolLM2-135M (dim 576, 30 layers, 9 heads /
// 3 kv heads, ffn 1536, vocab 49152; a small vision tower, which decoding never runs) against
// the machine's memory-bandwidth bound, and against transformers.js on the same files.
//
// 1. Read bandwidth: onnxruntime ReduceSum over a 512 MB tensor, 1 and 2 intra-op threads, at the
//    start, and on 2 threads again before every round (a shared machine's bandwidth moves within
//    minutes: each row's % of the bound uses the median of its rounds' samples).
// 2. The bound: bandwidth / bytes read per token: every decoder weight (LM head included; the
//    token embedding is one gathered row) plus the KV cache at that prompt length (read once per
//    step: the row's prompt + half the new tokens, keys and values of every layer).
// 3. Greedy generation of BENCH_DECODE_STEPS tokens after prompts of 16 to 256 tokens, on
//    `@mllm/onnx`'s runtime and on transformers.js (LlavaForConditionalGeneration, no image),
//    taking turns; decode = median time between consecutive tokens. Both must pick the same ids.
//    Ours runs its default thread count (every core) unless BENCH_THREADS sets it; transformers.js
//    onnxruntime's default.
// 4. The MatMul floor (tools/bench-onnx-matmul-floor.mjs: the step's weight MatMuls alone, on our
//    thread count), timed before every round: the ceiling of any graph of these weights.
//
// `node tools/bench-onnx-decode.mjs` after `npm run build` (~4 min to build and export the model;
// BENCH_ONNX_DIR=/path reuses an export, BENCH_DTYPE=fp16|int8 another weight format). Numbers move
// 30-50% on a shared machine: read the ratios, which come from turns taken back to back.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { initBackend } from '@mllm/core';
import { buildModel, createComponentRegistry } from '@mllm/model';
import { exportModel, GraphBuilder, OnnxMultimodalModel } from '@mllm/onnx';
import * as ort from 'onnxruntime-node';
import { matmulFloor } from './bench-onnx-matmul-floor.mjs';

const STEPS = Number(process.env.BENCH_DECODE_STEPS ?? 24);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const PROMPTS = (process.env.BENCH_PROMPTS ?? '16,64,128,256').split(',').map(Number);
const DTYPE = process.env.BENCH_DTYPE ?? 'fp32';
const BYTES_PER_WEIGHT = { fp32: 4, fp16: 4, int8: 4 }; // fp16/int8 are widened to float32 in the graph: what is read per token

export const SMOLLM2_135M = { type: 'causal', dim: 576, layers: 30, heads: 9, kvHeads: 3, mlpHidden: 1536, ropeTheta: 100000, normEps: 1e-5 };
export const SMOLLM2_VOCAB = 49152;

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const now = () => performance.now();

/** GB/s of onnxruntime's ReduceSum over a float32 [rows, 4096] tensor of `mb` MB, fed once and summed `reps` times. */
export async function readBandwidth(threads, mb = 512, reps = 7) {
  const cols = 4096;
  const rows = Math.floor((mb * 2 ** 20) / 4 / cols);
  const g = new GraphBuilder('bandwidth');
  const x = g.input('x', 'float32', [rows, cols]);
  g.output(g.op('ReduceSum', [x, g.constInt64([1])], { keepdims: { int: 1 } }), 'y', 'float32', [rows, 1]);
  const session = await ort.InferenceSession.create(g.serialize(), { intraOpNumThreads: threads, interOpNumThreads: 1 });
  const data = new Float32Array(rows * cols).fill(1);
  const feeds = { x: new ort.Tensor('float32', data, [rows, cols]) };
  await session.run(feeds);
  const times = [];
  for (let i = 0; i < reps; i++) {
    const t = now();
    await session.run(feeds);
    times.push(now() - t);
  }
  await session.release();
  return data.byteLength / (median(times) / 1000) / 1e9;
}

/** Writes the 135M-shaped model's export to `dir` (random weights, seed 0). */
async function exportAtSize(dir) {
  await initBackend({ backend: 'cpu' });
  const model = buildModel(
    { encoder: { type: 'vit', imageSize: 16, patchSize: 8, dim: 32, layers: 1, heads: 2 }, connector: { type: 'mlp' }, llm: SMOLLM2_135M },
    { registry: createComponentRegistry(), vocabSize: SMOLLM2_VOCAB, special: { imageTokenId: 4, padId: 0 }, seed: 0 },
  );
  await exportModel(model, dir, { maxPositions: 1024, weights: DTYPE });
  model.dispose();
}

/** Per-token intervals (ms) and ids of `steps` greedy tokens on @mllm/onnx's runtime. */
async function oursRun(runtime, ids, steps) {
  const stamps = [];
  const out = await runtime.generate([{ ids, images: [] }], { maxNewTokens: steps, stopTokens: [], onToken: () => stamps.push(now()) });
  return { ids: out[0], intervals: stamps.slice(1).map((t, i) => t - stamps[i]) };
}

/** The same on transformers.js: a streamer is called once per new token. */
async function theirsRun(hf, Tensor, ids, steps) {
  const stamps = [];
  const streamer = { put: () => stamps.push(now()), end: () => {} };
  const input_ids = new Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]);
  const attention_mask = new Tensor('int64', new BigInt64Array(ids.length).fill(1n), [1, ids.length]);
  const out = await hf.generate({ input_ids, attention_mask, max_new_tokens: steps, do_sample: false, streamer });
  // the first put is the prompt, then one per token
  const tokens = stamps.slice(1);
  return { ids: Array.from(out.data, Number).slice(ids.length), intervals: tokens.slice(1).map((t, i) => t - tokens[i]) };
}

export async function benchDecode() {
  const cores = availableParallelism();
  const bandwidth = { one: await readBandwidth(1), two: await readBandwidth(Math.min(2, cores)) };
  const own = process.env.BENCH_ONNX_DIR;
  const dir = own ?? join(mkdtempSync(join(tmpdir(), 'mllm-bench-decode-')), 'smollm2-135m');
  if (!own || !existsSync(join(dir, 'mllm.json'))) await exportAtSize(dir);
  const threads = process.env.BENCH_THREADS ? Number(process.env.BENCH_THREADS) : undefined;
  const runtime = await OnnxMultimodalModel.load(dir, { threads });
  const { layers, dim, vocabSize } = runtime.manifest.llm;
  const { AutoModelForImageTextToText, Tensor, env } = await import('@huggingface/transformers');
  env.allowRemoteModels = false;
  env.localModelPath = dirname(dir);
  const hf = await AutoModelForImageTextToText.from_pretrained(basename(dir));
  const text = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).text_config;
  const qDim = text.num_attention_heads * text.head_dim;
  const kvDim = text.num_key_value_heads * text.head_dim;
  const perLayer = dim * qDim * 2 + dim * kvDim * 2 + 3 * dim * text.intermediate_size;
  const weightBytes = (layers * perLayer + vocabSize * dim) * BYTES_PER_WEIGHT[runtime.manifest.weights];
  // float32 keys and values of every layer at the mean cached length of a row's decode steps
  const cacheBytes = (promptLength) => layers * 2 * kvDim * (promptLength + STEPS / 2) * 4;
  const rows = [];
  // the MatMuls of a decode step alone, on our runtime's thread count: the ceiling of any graph of these weights
  const floor = await matmulFloor(threads ?? cores);
  for (const promptLength of PROMPTS) {
    // the machine's bandwidth moves within minutes: sampled before every round, with the floor, and the medians kept
    const bandwidths = [];
    const floors = [];
    const ids = Array.from({ length: promptLength }, (_, i) => 8 + ((i * 7919) % (vocabSize - 8)));
    await oursRun(runtime, ids, 2); // warm-up at this length
    await theirsRun(hf, Tensor, ids, 2);
    const ours = [];
    const theirs = [];
    let same = true;
    for (let r = 0; r < ROUNDS; r++) {
      bandwidths.push(await readBandwidth(Math.min(2, cores), 512, 3));
      floors.push(await floor.time(5));
      const a = await oursRun(runtime, ids, STEPS);
      const b = await theirsRun(hf, Tensor, ids, STEPS);
      ours.push(...a.intervals);
      theirs.push(...b.intervals);
      same &&= JSON.stringify(a.ids) === JSON.stringify(b.ids);
    }
    rows.push({ promptLength, ours: median(ours), theirs: median(theirs), same, bandwidth: median(bandwidths), floor: median(floors), bytes: weightBytes + cacheBytes(promptLength) });
  }
  await floor.release();
  await runtime.release();
  await hf.dispose();
  if (!own) rmSync(dirname(dir), { recursive: true, force: true });
  return { cores, threads: threads ?? 'default', bandwidth, weightBytes, dtype: runtime.manifest.weights, rows };
}

export function formatDecodeBench({ cores, threads, bandwidth, weightBytes, dtype, rows }) {
  const bound = (gbs, bytes = weightBytes) => (gbs * 1e9) / bytes;
  const lines = [
    `read bandwidth (onnxruntime ReduceSum, 512 MB): ${bandwidth.one.toFixed(1)} GB/s on 1 thread, ${bandwidth.two.toFixed(1)} GB/s on 2 (${cores} cores) at the start; on 2 threads before each round, median per row: ${rows.map((r) => r.bandwidth.toFixed(1)).join(' / ')} GB/s`,
    `SmolLM2-135M-shaped LLM, ${dtype} weights: ${(weightBytes / 1e6).toFixed(0)} MB read per token (+ the KV cache per row) -> bound at the start ${bound(bandwidth.one).toFixed(1)} tok/s (1 core), ${bound(bandwidth.two).toFixed(1)} tok/s (2 cores)`,
    `batch 1, greedy, ${STEPS} new tokens x ${ROUNDS} rounds taking turns; decode = median ms between tokens; @mllm/onnx intra-op threads: ${threads}, transformers.js: default`,
    '| prompt | @mllm/onnx tok/s | transformers.js tok/s | ours / theirs | MB read per token | 2-core bound tok/s (row bandwidth) | % of bound (ours) | MatMul floor tok/s | % of floor (ours) | same ids |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---:|',
    ...rows.map(
      (r) =>
        `| ${r.promptLength} | ${(1000 / r.ours).toFixed(1)} | ${(1000 / r.theirs).toFixed(1)} | ${(r.theirs / r.ours).toFixed(2)}x | ${(r.bytes / 1e6).toFixed(0)} | ${bound(r.bandwidth, r.bytes).toFixed(1)} | ${((100 * 1000) / r.ours / bound(r.bandwidth, r.bytes)).toFixed(0)}% | ${(1000 / r.floor).toFixed(1)} | ${((100 * r.floor) / r.ours).toFixed(0)}% | ${r.same ? 'yes' : 'NO'} |`,
    ),
  ];
  return lines.join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) console.log(formatDecodeBench(await benchDecode()));
