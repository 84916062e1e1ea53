#!/usr/bin/env node
// npm run bench: training throughput of the default config's stages on this machine's backend
// (attention's batched matMuls on tfjs's kernel, then on our SIMD kernel, same batches),
// next to the backend's measured 2-D matMul peak. Numbers vary 30-50% run to run on a shared
// machine: compare within one run.
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { initBackend, setFastKernels } from '@mllm/core';
import { createRegistry } from '@mllm/model';
import { StageData, parseRunConfig, runStage } from '@mllm/training';
import { createSession } from '../apps/cli/dist/index.js';
import { benchDataPipeline, formatDataBench } from './bench-data.mjs';

const configPath = process.argv[2] ?? 'configs/default.json';
const steps = Number(process.env.BENCH_STEPS ?? 12);
const backend = await initBackend();

function matMulPeak() {
  const results = [];
  for (const n of [256, 512, 1024]) {
    const a = tf.randomNormal([n, n]);
    const b = tf.randomNormal([n, n]);
    tf.matMul(a, b).dispose();
    const reps = n >= 1024 ? 3 : 10;
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) tf.matMul(a, b).dataSync();
    const s = (performance.now() - t0) / 1000 / reps;
    results.push((2 * n ** 3) / s / 1e9);
    a.dispose();
    b.dispose();
  }
  return Math.max(...results);
}

const config = parseRunConfig(JSON.parse(readFileSync(configPath, 'utf8')), createRegistry());
const session = createSession({ ...config, data: { ...config.data, train: 500 } });
const { model, tokenizer, world } = session;
const data = new StageData(world, tokenizer, config.seed);
const peak = matMulPeak();
console.log(`backend ${backend.name} (${backend.provider}); 2-D matMul peak ${peak.toFixed(1)} GFLOP/s; ${steps} timed steps per stage after 2 warm-up steps`);
console.log('stage              attn-bmm tokens/step  ms/step  tokens/s  GFLOP/s  % of peak');
let imageDemand = 0; // images/s the fastest image-reading stage consumes
for (const [i, stage] of config.stages.entries()) for (const fast of [false, true]) {
  setFastKernels(fast);
  const times = [];
  let tokens = 0;
  const result = await runStage({ ...stage, steps: steps + 2, evalEvery: 0, checkpointEvery: 0, warmup: 1 }, i, model, data, {
    onStep: (e) => {
      if (e.step >= 2) {
        times.push(e.seconds);
        tokens = e.tokens;
      }
    },
  });
  const median = times.sort((a, b) => a - b)[Math.floor(times.length / 2)];
  // 6 x parameters x tokens (forward + backward) plus attention scores and mixing (12 x layers x T x D per token)
  const isEncoder = stage.type === 'pretrain-encoder';
  const layers = isEncoder ? model.encoder.config.layers : model.llm.numLayers;
  const width = isEncoder ? model.encoder.outputDim : model.llm.dim;
  const seq = tokens / stage.batchSize;
  const params = isEncoder ? model.encoder.numParameters() : model.llm.numParameters() + model.connector.numParameters();
  const gflops = ((6 * params + 12 * layers * seq * width) * tokens) / median / 1e9;
  if (stage.type !== 'pretrain-llm') imageDemand = Math.max(imageDemand, stage.batchSize / median);
  console.log(
    `${result.name.padEnd(18)} ${(fast ? 'simd' : 'tfjs').padEnd(7)} ${String(tokens).padStart(12)} ${(median * 1000).toFixed(0).padStart(8)} ${Math.round(tokens / median).toString().padStart(9)} ${gflops.toFixed(2).padStart(8)} ${((100 * gflops) / peak).toFixed(1).padStart(9)}`,
  );
}

console.log('');
const dataBench = await benchDataPipeline();
console.log(formatDataBench(dataBench));
const slowest32 = Math.min(...dataBench.rows.filter((r) => r.target === '32 crop').map((r) => r.sequential));
console.log(
  `training above consumes at most ${imageDemand.toFixed(0)} images/s (batch size / step time); decoding 640x480 files to 32 px runs >= ${slowest32.toFixed(0)} images/s on one thread (${(slowest32 / imageDemand).toFixed(1)}x)`,
);
