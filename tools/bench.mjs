#!/usr/bin/env node
// npm run bench: training throughput per stage of the default config and of a wider LLM on this
// machine's backend (stock tfjs, our fast kernels, fast kernels + data-parallel workers, same
// batches), next to the backend's measured 2-D matMul peak; then the other areas' benchmarks.
// Numbers vary 30-50% run to run on a shared machine: compare within one run.
// `npm run bench -- --vs-torch [case ...]`: only the same step in this project and in PyTorch
// (tools/bench-vs-torch.mjs).
import { initBackend } from '@mllm/core';
import { createComponentRegistry } from '@mllm/model';
import { parseRunConfig } from '@mllm/training';
import { createSession, loadConfig } from '@mllm/run';
import { TRAINING_HEADER, benchTraining, formatTrainingRow, matMulPeaks, summarizeTraining } from './bench-train.mjs';
import { benchDataPipeline, formatDataBench } from './bench-data.mjs';
import { benchGenerate, formatGenerateBench } from './bench-generate.mjs';
import { benchOnnx, formatOnnxBench } from './bench-onnx.mjs';
import { benchMoe, formatMoeBench } from './bench-moe.mjs';

if (process.argv.includes('--vs-torch')) {
  await initBackend();
  const { benchVsTorch } = await import('./bench-vs-torch.mjs');
  const cases = process.argv.slice(2).filter((a) => a !== '--vs-torch');
  const lines = await benchVsTorch(cases.length ? cases : undefined, { log: (s) => console.log(s) });
  if (lines.length === 1) console.log(lines[0]); // skipped: why
  process.exit(0);
}

const configPath = process.argv[2] ?? 'configs/default.json';
const steps = Number(process.env.BENCH_STEPS ?? 12);
const wideSteps = Number(process.env.BENCH_WIDE_STEPS ?? 4);
const backend = await initBackend();

const config = parseRunConfig(await loadConfig(configPath), createComponentRegistry());
const { model } = createSession({ ...config, data: { ...config.data, train: 500 } });
const peaks = matMulPeaks();
const peak = peaks.onnxruntimeAll ?? peaks.wasm;
const fmt = (x) => (x === undefined ? 'n/a (onnxruntime-node not installed)' : `${x.toFixed(1)}`);
console.log(`backend ${backend.name} (${backend.provider}); ${steps} timed steps per stage (${wideSteps} for the wide LLM, 1 for it on stock tfjs) after warm-up`);
console.log(`2-D matMul peak, GFLOP/s: tfjs-wasm XNNPACK ${fmt(peaks.wasm)} (1 thread); onnxruntime ${fmt(peaks.onnxruntime1)} (1 thread), ${fmt(peaks.onnxruntimeAll)} (all cores); %peak below is of the last`);
console.log('modes: tfjs = stock tfjs ops and gradients; wasm = our kernels, matMuls on tfjs-wasm (XNNPACK + our SIMD); fast = our kernels, matMuls on onnxruntime (all cores); fast+Nw = N data-parallel participants');
console.log(TRAINING_HEADER);
const trainingRows = [];
for (const [label, llm, n, plainSteps, warmup] of [['default', undefined, steps, steps, 2], ['llm 8x256', { layers: 8, dim: 256, heads: 8 }, wideSteps, 1, 1]])
  trainingRows.push(...(await benchTraining({ label, configPath, llm, steps: n, plainSteps, warmup, log: (r) => console.log(formatTrainingRow(r, peak)) })));
console.log(summarizeTraining(trainingRows));
const imageDemand = Math.max(...trainingRows.filter((r) => r.config === 'default' && !r.stage.endsWith('pretrain-llm')).map((r) => r.batchSize / (r.msPerStep / 1000))); // images/s the fastest image-reading stage consumes

console.log('');
const dataBench = await benchDataPipeline();
console.log(formatDataBench(dataBench));
const slowest32 = Math.min(...dataBench.rows.filter((r) => r.target === '32 crop').map((r) => r.sequential));
console.log(
  `training above consumes at most ${imageDemand.toFixed(0)} images/s (batch size / step time); decoding 640x480 files to 32 px runs >= ${slowest32.toFixed(0)} images/s on one thread (${(slowest32 / imageDemand).toFixed(1)}x)`,
);

console.log('');
console.log(formatGenerateBench(benchGenerate({ lm: model.llm }), model.llm));

console.log('');
console.log(formatOnnxBench(await benchOnnx()));

console.log('');
console.log(formatMoeBench(benchMoe()));
