#!/usr/bin/env node
// The decode step of an export folder, and the MatMul floor of its weights' shapes, on several
// onnxruntime-node builds: the repo's and each folder given (an `npm i onnxruntime-node@X` in a
// scratch folder, its node_modules/onnxruntime-node). Two builds cannot share a process (both
// load libonnxruntime.so.1), so each round runs one child process per build, in turns; a child
// reads the floor graph from a file this process writes with @mllm/onnx.
//   node tools/bench-ort-versions.mjs DIR [past=64] [ORT_DIR ...]      (BENCH_ROUNDS, default 3)
// Prints per build the median ms of the floor and of one cached decoder step (batch 1, `past`
// cached positions, 2 intra-op threads), and their difference: what the graph's other ops cost.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CHILD = process.env.ORT_VERSIONS_CHILD;

/** One build's medians, in a child process: `{ version, floor, step }` ms. */
async function child([ortDir, floorFile, dir, pastArg]) {
  const ort = createRequire(import.meta.url)(ortDir);
  const manifest = JSON.parse(readFileSync(join(dir, 'mllm.json'), 'utf8'));
  const { layers, kvHeads, headDim, dim } = manifest.llm;
  const past = Number(pastArg);
  const options = { intraOpNumThreads: 2, interOpNumThreads: 1 };
  const floor = await ort.InferenceSession.create(readFileSync(floorFile), options);
  const decoder = await ort.InferenceSession.create(join(dir, manifest.files.decoder), options);
  const random = (n) => Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 0.1);
  const feeds = {
    inputs_embeds: new ort.Tensor('float32', random(dim), [1, 1, dim]),
    attention_mask: new ort.Tensor('int64', new BigInt64Array(past + 1).fill(1n), [1, past + 1]),
    position_ids: new ort.Tensor('int64', BigInt64Array.from([BigInt(past)]), [1, 1]),
  };
  const capacity = past + 32;
  for (let i = 0; i < layers; i++) for (const kv of ['key', 'value']) feeds[`past_key_values.${i}.${kv}`] = new ort.Tensor('float32', random(kvHeads * capacity * headDim), [1, kvHeads, capacity, headDim]);
  const fetches = ['logits', ...Array.from({ length: layers }, (_, i) => [`new_key_values.${i}.key`, `new_key_values.${i}.value`]).flat()];
  const median = async (run, n = 21) => {
    for (let i = 0; i < 3; i++) await run();
    const times = [];
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      await run();
      times.push(performance.now() - t);
    }
    return times.sort((a, b) => a - b)[Math.floor(n / 2)];
  };
  const floorFeeds = { x: new ort.Tensor('float32', random(dim), [1, dim]) };
  return { version: ort.env.versions.common, floor: await median(() => floor.run(floorFeeds)), step: await median(() => decoder.run(feeds, fetches)) };
}

if (CHILD) {
  process.stdout.write(JSON.stringify(await child(JSON.parse(CHILD))));
} else {
  const [dir, past = '64', ...others] = process.argv.slice(2);
  if (!dir) {
    console.error('usage: node tools/bench-ort-versions.mjs <export folder> [past=64] [onnxruntime-node folder ...]');
    process.exit(1);
  }
  const { floorGraph } = await import('./bench-onnx-matmul-floor.mjs');
  const floorFile = join(mkdtempSync(join(tmpdir(), 'ort-versions-')), 'floor.onnx');
  writeFileSync(floorFile, floorGraph().model);
  const builds = ['onnxruntime-node', ...others];
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  const results = builds.map(() => []);
  for (let r = 0; r < rounds; r++)
    builds.forEach((build, b) => {
      const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url)], { env: { ...process.env, ORT_VERSIONS_CHILD: JSON.stringify([build, floorFile, dir, past]) } });
      results[b].push(JSON.parse(out.toString()));
    });
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(`decoder step after ${past} cached positions, batch 1, 2 intra-op threads; medians of ${rounds} rounds taking turns`);
  console.log('| onnxruntime-node | MatMul floor ms | decoder step ms | step - floor ms |\n|---|---:|---:|---:|');
  results.forEach((rows) => {
    const [floor, step] = [median(rows.map((x) => x.floor)), median(rows.map((x) => x.step))];
    console.log(`| ${rows[0].version} | ${floor.toFixed(2)} | ${step.toFixed(2)} | ${(step - floor).toFixed(2)} |`);
  });
}
