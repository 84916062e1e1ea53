#!/usr/bin/env node
// What one greedy decode step of `@mllm/onnx`'s runtime spends outside the decoder graph:
// per round, the median time between tokens, the mean decoder `session.run` of the steps, and
// the token embedding of a step: the runtime's table lookup, and (timed on a session of its own
// right after each decoder call, as the runtime ran it before the table) a one-token call of the
// token-embedding graph on one thread.
//   node tools/profile-onnx-step.mjs DIR [prompt=64] [steps=24] [rounds=4]
// DIR: an `mllm export` folder (BENCH_ONNX_DIR of tools/bench-onnx-decode.mjs).
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { OnnxMultimodalModel } from '@mllm/onnx';

const [dir, promptArg = '64', stepsArg = '24', roundsArg = '4'] = process.argv.slice(2);
if (!dir) {
  console.error('usage: node tools/profile-onnx-step.mjs <export folder> [prompt=64] [steps=24] [rounds=4]');
  process.exit(1);
}
const manifest = JSON.parse(readFileSync(join(dir, 'mllm.json'), 'utf8'));
const runtime = await OnnxMultimodalModel.load(dir);
const embedSession = await ort.InferenceSession.create(join(dir, manifest.files.embedTokens), { intraOpNumThreads: 1, interOpNumThreads: 1 });
const acc = { decoder: [], graphEmbed: [], tableEmbed: [] };
// wraps the runtime's decoder session (a private field) and its embed() to time them
const decoder = runtime['decoder'];
const run = decoder.run.bind(decoder);
decoder.run = async (...args) => {
  const t = performance.now();
  const out = await run(...args);
  acc.decoder.push(performance.now() - t);
  const e = performance.now();
  await embedSession.run({ input_ids: new ort.Tensor('int64', BigInt64Array.from([5n]), [1, 1]) });
  acc.graphEmbed.push(performance.now() - e);
  return out;
};
const embed = runtime.embed.bind(runtime);
runtime.embed = async (ids) => {
  const t = performance.now();
  const out = await embed(ids);
  if (ids[0].length === 1) acc.tableEmbed.push(performance.now() - t);
  return out;
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const ids = Array.from({ length: Number(promptArg) }, (_, i) => 10 + i);
console.log('| round | ms between tokens (median, the timed graph call included) | decoder run, mean of steps | embedding graph call after it, mean | table lookup, mean |\n|---:|---:|---:|---:|---:|');
for (let r = 0; r < Number(roundsArg); r++) {
  for (const k of Object.keys(acc)) acc[k] = [];
  const stamps = [];
  await runtime.generate([{ ids, images: [] }], { maxNewTokens: Number(stepsArg), stopTokens: [], onToken: () => stamps.push(performance.now()) });
  const gaps = stamps.slice(1).map((s, i) => s - stamps[i]);
  const steps = acc.decoder.slice(1); // the first call is the prefill
  const embeds = acc.graphEmbed.slice(1);
  console.log(`| ${r + 1} | ${median(gaps).toFixed(2)} | ${mean(steps).toFixed(2)} | ${mean(embeds).toFixed(3)} | ${mean(acc.tableEmbed).toFixed(3)} |`);
}
await runtime.release();
await embedSession.release();
