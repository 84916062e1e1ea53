#!/usr/bin/env node
// A/B of decode speed between exported folders and session settings, taking turns in one process
// (the machine is shared: only ratios from turns taken back to back mean anything).
//
// `node tools/ab-onnx-decode.mjs DIR[:threads] DIR[:threads] ...` (BENCH_PROMPTS, BENCH_ROUNDS,
// BENCH_DECODE_STEPS as tools/bench-onnx-decode.mjs). Prints per variant and prompt length the
// median ms between tokens and its ratio to the first variant, and whether every variant picked
// the same ids.
import { OnnxMultimodalModel } from '@mllm/onnx';

const STEPS = Number(process.env.BENCH_DECODE_STEPS ?? 24);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const PROMPTS = (process.env.BENCH_PROMPTS ?? '16,256').split(',').map(Number);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const variants = [];
for (const arg of process.argv.slice(2)) {
  const [dir, threads] = arg.split(':');
  const runtime = await OnnxMultimodalModel.load(dir, threads ? { threads: Number(threads) } : {});
  variants.push({ name: arg, runtime });
}
const vocab = variants[0].runtime.vocabSize;
for (const promptLength of PROMPTS) {
  const ids = Array.from({ length: promptLength }, (_, i) => 8 + ((i * 7919) % (vocab - 8)));
  const intervals = variants.map(() => []);
  const outputs = variants.map(() => new Set());
  for (const v of variants) await v.runtime.generate([{ ids, images: [] }], { maxNewTokens: 2, stopTokens: [] });
  for (let r = 0; r < ROUNDS; r++)
    for (const [i, v] of (r % 2 ? [...variants].reverse() : variants).map((v) => [variants.indexOf(v), v])) {
      const stamps = [];
      const out = await v.runtime.generate([{ ids, images: [] }], { maxNewTokens: STEPS, stopTokens: [], onToken: () => stamps.push(performance.now()) });
      intervals[i].push(...stamps.slice(1).map((t, k) => t - stamps[k]));
      outputs[i].add(JSON.stringify(out[0]));
    }
  const base = median(intervals[0]);
  const same = new Set(outputs.flatMap((o) => [...o])).size === 1;
  console.log(`prompt ${promptLength} (same ids: ${same ? 'yes' : 'NO'})`);
  variants.forEach((v, i) => console.log(`  ${v.name}: ${median(intervals[i]).toFixed(2)} ms/token, ${(base / median(intervals[i])).toFixed(3)}x the first`));
}
for (const v of variants) await v.runtime.release();
