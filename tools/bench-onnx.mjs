#!/usr/bin/env node
// Inference speed, onnxruntime-node vs the active tfjs backend (wasm here), on the same random
// weights: time to first token (prefill + the first pick) and KV-cached decode tokens/s at prompt
// lengths 16 and 256, for the default model's LLM and a ~100M-parameter one (12 layers x 768);
// then at prompt 256, cached decode vs recomputing the whole sequence for every token.
// `node tools/bench-onnx.mjs` after a build, or part of `npm run bench`. Numbers vary 30-50% run
// to run on a shared machine: compare within one run.
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { initBackend } from '@mllm/core';
import { buildModel, createComponentRegistry } from '@mllm/model';
import { createKvCache, disposeKvCache } from '@mllm/llm';
import { exportModel, OnnxMultimodalModel } from '@mllm/onnx';

const DECODE_STEPS = Number(process.env.BENCH_DECODE_STEPS ?? 16);

function defaultModelConfig() {
  const config = JSON.parse(readFileSync(new URL('../configs/default.json', import.meta.url), 'utf8'));
  return { encoder: config.encoder, connector: config.connector, llm: config.llm };
}

export const ONNX_BENCH_MODELS = [
  { label: 'default', vocab: 512, config: defaultModelConfig },
  {
    label: '~100M (12x768)',
    vocab: 8192,
    config: () => ({ ...defaultModelConfig(), llm: { type: 'causal', dim: 768, layers: 12, heads: 12, mlpHidden: 2048 } }),
  },
];

const now = () => performance.now();
/** Median of per-step times: one stall of this shared machine does not move it. */
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const argmaxLast = (data, v) => {
  let best = data.length - v;
  for (let i = data.length - v; i < data.length; i++) if (data[i] > data[best]) best = i;
  return best - (data.length - v);
};

/** tfjs: prefill of T ids, then `steps` single-token steps on the KV cache; returns ms. */
function timeTfjs(llm, ids, steps) {
  const cache = createKvCache();
  const t0 = now();
  let logits = tf.tidy(() => llm.forward(llm.embed(tf.tensor2d([ids], [1, ids.length], 'int32')), { cache }).logits);
  let next = argmaxLast(logits.dataSync(), llm.vocabSize);
  logits.dispose();
  const ttft = now() - t0;
  const times = [];
  for (let s = 0; s < steps; s++) {
    const t1 = now();
    logits = tf.tidy(() => llm.forward(llm.embed(tf.tensor2d([[next]], [1, 1], 'int32')), { cache }).logits);
    next = argmaxLast(logits.dataSync(), llm.vocabSize);
    logits.dispose();
    times.push(now() - t1);
  }
  const decode = median(times);
  disposeKvCache(cache);
  return { ttft, decode };
}

/** tfjs without cache: the whole sequence again for each new token; ms per token. */
function timeTfjsRecompute(llm, ids, steps) {
  const seq = [...ids];
  const times = [];
  for (let s = 0; s < steps; s++) {
    const t0 = now();
    const logits = tf.tidy(() => llm.forward(llm.embed(tf.tensor2d([seq], [1, seq.length], 'int32'))).logits);
    seq.push(argmaxLast(logits.dataSync(), llm.vocabSize));
    logits.dispose();
    times.push(now() - t0);
  }
  return median(times);
}

async function timeOrt(ort, ids, steps) {
  const mask = [ids.map(() => 1)];
  const t0 = now();
  let { logits, past } = await ort.decode(await ort.embed([ids]), mask);
  let next = argmaxLast(logits.data, ort.vocabSize);
  const ttft = now() - t0;
  const times = [];
  for (let s = 0; s < steps; s++) {
    const t1 = now();
    mask[0].push(1);
    ({ logits, past } = await ort.decode(await ort.embed([[next]]), mask, past));
    next = argmaxLast(logits.data, ort.vocabSize);
    times.push(now() - t1);
  }
  return { ttft, decode: median(times) };
}

async function timeOrtRecompute(ort, ids, steps) {
  const seq = [...ids];
  const times = [];
  for (let s = 0; s < steps; s++) {
    const t0 = now();
    const { logits } = await ort.decode(await ort.embed([seq]), [seq.map(() => 1)]);
    seq.push(argmaxLast(logits.data, ort.vocabSize));
    times.push(now() - t0);
  }
  return median(times);
}

/** Runs every model x prompt length; returns rows for formatOnnxBench. */
export async function benchOnnx(options = {}) {
  const backend = tf.getBackend();
  const rows = [];
  const recompute = [];
  for (const spec of options.models ?? ONNX_BENCH_MODELS) {
    const model = buildModel(spec.config(), { registry: createComponentRegistry(), vocabSize: spec.vocab, special: { imageTokenId: 4, padId: 0 }, seed: 0 });
    const dir = join(mkdtempSync(join(tmpdir(), 'mllm-bench-onnx-')), 'model');
    await exportModel(model, dir, { maxPositions: 512 });
    const ort = await OnnxMultimodalModel.load(dir);
    const llm = model.llm;
    const params = llm.numParameters();
    for (const promptLength of options.promptLengths ?? [16, 256]) {
      const ids = Array.from({ length: promptLength }, (_, i) => 8 + ((i * 7919) % (spec.vocab - 8)));
      // warm-up at this prompt length: kernels, weights uploaded, ORT's buffers for these shapes
      timeTfjs(llm, ids, 1);
      await timeOrt(ort, ids, 1);
      const steps = params > 5e7 ? Math.min(DECODE_STEPS, 8) : DECODE_STEPS;
      const t = timeTfjs(llm, ids, steps);
      const o = await timeOrt(ort, ids, steps);
      rows.push({ model: spec.label, params, promptLength, tfjs: t, ort: o });
      if (promptLength === 256) {
        const n = params > 5e7 ? 3 : 8;
        recompute.push({
          model: spec.label,
          tfjs: { cached: t.decode, recompute: params > 5e7 ? undefined : timeTfjsRecompute(llm, ids, n) },
          ort: { cached: o.decode, recompute: await timeOrtRecompute(ort, ids, n) },
        });
      }
    }
    await ort.release();
    model.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
  return { backend, rows, recompute };
}

export function formatOnnxBench({ backend, rows, recompute }) {
  const f = (x) => (x === undefined ? '-' : x.toFixed(1));
  const lines = [
    `inference: onnxruntime-node (cpu) vs tfjs ${backend}, batch 1, greedy; TTFT = prefill + first pick; decode = median ms per step`,
    '| model | LLM params | prompt | TTFT tfjs ms | TTFT ORT ms | decode tfjs tok/s | decode ORT tok/s | decode speed-up |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.model} | ${(r.params / 1e6).toFixed(1)}M | ${r.promptLength} | ${r.tfjs.ttft.toFixed(0)} | ${r.ort.ttft.toFixed(0)} | ${(1000 / r.tfjs.decode).toFixed(1)} | ${(1000 / r.ort.decode).toFixed(1)} | ${(r.tfjs.decode / r.ort.decode).toFixed(1)}x |`,
    ),
    '',
    'prompt 256: ms per new token, KV cache vs recomputing the whole sequence',
    '| model | tfjs cached | tfjs recompute | ORT cached | ORT recompute | ORT cache speed-up |',
    '|---|---:|---:|---:|---:|---:|',
    ...recompute.map((r) => `| ${r.model} | ${f(r.tfjs.cached)} | ${f(r.tfjs.recompute)} | ${f(r.ort.cached)} | ${f(r.ort.recompute)} | ${(r.ort.recompute / r.ort.cached).toFixed(1)}x |`),
  ];
  return lines.join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await initBackend({ backend: process.env.MLLM_BACKEND ?? 'wasm' });
  console.log(formatOnnxBench(await benchOnnx()));
}
