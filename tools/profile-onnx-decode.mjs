#!/usr/bin/env node
// Where a decode step's time goes: onnxruntime's own profiler (`enableProfiling`) over KV-cached
// decode steps of an exported folder's decoder graph, summed per op type, beside the wall time of
// `session.run` (what the ops do not account for is onnxruntime-node's copying of inputs and
// outputs and the session's own bookkeeping).
//
// `node tools/profile-onnx-decode.mjs DIR [past=256] [steps=16] [threads=2]`, DIR an `mllm export`
// folder (BENCH_ONNX_DIR of tools/bench-onnx-decode.mjs). The past keys and values are random: the
// time of a step does not depend on their values.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';

const [dir, pastArg = '256', stepsArg = '16', threadsArg = '2'] = process.argv.slice(2);
if (!dir) {
  console.error('usage: node tools/profile-onnx-decode.mjs DIR [past] [steps] [threads]');
  process.exit(2);
}
const past = Number(pastArg);
const steps = Number(stepsArg);
const manifest = JSON.parse(readFileSync(join(dir, 'mllm.json'), 'utf8'));
const { layers, kvHeads, headDim, dim } = manifest.llm;
const work = mkdtempSync(join(tmpdir(), 'mllm-profile-'));
const session = await ort.InferenceSession.create(join(dir, manifest.files.decoder), {
  graphOptimizationLevel: 'all',
  intraOpNumThreads: Number(threadsArg),
  interOpNumThreads: 1,
  enableProfiling: true,
  profileFilePrefix: join(work, 'decoder'),
});

const int64 = (values, dims) => new ort.Tensor('int64', BigInt64Array.from(values, BigInt), dims);
const random = (n) => Float32Array.from({ length: n }, () => Math.random() - 0.5);
/** Feeds of one decode step after `p` cached positions. */
function feeds(p) {
  const f = {
    inputs_embeds: new ort.Tensor('float32', random(dim), [1, 1, dim]),
    attention_mask: int64(new Array(p + 1).fill(1), [1, p + 1]),
    position_ids: int64([p], [1, 1]),
  };
  for (let i = 0; i < layers; i++)
    for (const kind of ['key', 'value']) f[`past_key_values.${i}.${kind}`] = new ort.Tensor('float32', random(kvHeads * p * headDim), [1, kvHeads, p, headDim]);
  return f;
}

// fetched as @mllm/onnx's runtime does: logits and new_key_values.* where the export has them
const fetches = session.outputNames.filter((n) => n === 'logits' || n.startsWith('new_key_values.'));
const run = (f) => (fetches.length > 1 ? session.run(f, fetches) : session.run(f));
await run(feeds(past)); // warm-up: first-run allocations
const wall = [];
for (let s = 0; s < steps; s++) {
  const f = feeds(past);
  const t = performance.now();
  await run(f);
  wall.push(performance.now() - t);
}
await session.endProfiling();
await session.release();
// onnxruntime names the file <prefix>_<date>.json; the folder holds only this one
const file = readdirSync(work).find((f) => f.endsWith('.json'));
const events = JSON.parse(readFileSync(join(work, file), 'utf8'));
rmSync(work, { recursive: true, force: true });

// kernel events are `<node>_kernel_time`, with args.op_name; the first model_run is the warm-up
const runs = events.filter((e) => e.name === 'model_run');
const start = runs[1]?.ts ?? 0;
// each MatMul node's weight, by the initializer it reads (layer numbers folded), for the per-weight table
const graph = onnxProto.onnx.ModelProto.decode(readFileSync(join(dir, manifest.files.decoder))).graph;
const weightOf = new Map(graph.node.map((n) => [n.name, n.input.find((i) => i.endsWith('.weight'))?.replace(/layers\.\d+\./, 'layers.N.')]));
const byOp = new Map();
const byWeight = new Map();
for (const e of events) {
  if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time') || e.ts < start) continue;
  const op = e.args?.op_name ?? '?';
  const entry = byOp.get(op) ?? { us: 0, calls: 0 };
  entry.us += e.dur;
  entry.calls += 1;
  byOp.set(op, entry);
  const weight = op === 'MatMul' && weightOf.get(e.name.replace(/_kernel_time$/, ''));
  if (weight) {
    const w = byWeight.get(weight) ?? { us: 0, calls: 0 };
    w.us += e.dur;
    w.calls += 1;
    byWeight.set(weight, w);
  }
}
const bytesOf = new Map(graph.initializer.map((t) => [t.name.replace(/layers\.\d+\./, 'layers.N.'), (t.rawData?.length ?? 0)]));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const kernelMs = [...byOp.values()].reduce((sum, e) => sum + e.us, 0) / 1000 / steps;
const runMs = runs.slice(1).reduce((sum, e) => sum + e.dur, 0) / 1000 / steps;
console.log(`${dir}: ${past} cached positions, ${steps} steps, ${threadsArg} intra-op threads, fetching ${fetches.length > 1 ? 'logits + new_key_values.*' : 'every output'}`);
console.log(`session.run wall median ${median(wall).toFixed(2)} ms; profiler model_run ${runMs.toFixed(2)} ms; sum of kernels ${kernelMs.toFixed(2)} ms per step`);
console.log('| op | ms per step | share of kernels | nodes per step |');
console.log('|---|---:|---:|---:|');
for (const [op, e] of [...byOp].sort((a, b) => b[1].us - a[1].us))
  console.log(`| ${op} | ${(e.us / 1000 / steps).toFixed(3)} | ${((100 * e.us) / 1000 / steps / kernelMs).toFixed(1)}% | ${(e.calls / steps).toFixed(0)} |`);
console.log('\n| weight MatMul | µs per node | MB | GB/s | nodes per step |');
console.log('|---|---:|---:|---:|---:|');
for (const [weight, e] of [...byWeight].sort((a, b) => b[1].us - a[1].us)) {
  const us = e.us / e.calls;
  const mb = (bytesOf.get(weight) ?? 0) / 1e6;
  console.log(`| ${weight} | ${us.toFixed(1)} | ${mb.toFixed(2)} | ${((mb * 1e6) / (us * 1e3)).toFixed(1)} | ${(e.calls / steps).toFixed(0)} |`);
}
