#!/usr/bin/env node
/**
 * Where an at-size align step's memory goes: the wasm heap before and after one step (batch 1,
 * encoder features cached) of SigLIP-B/16 at 224 px + mlp + a SmolLM2-width LLM of LAYERS layers
 * and a VOCAB-id vocabulary, and tfjs's profile of the step's kernels by output bytes. The
 * per-layer and per-vocabulary slopes calibrate packages/run/src/size-estimate.ts.
 *
 *   VOCAB=49153 node tools/bench-at-size-heap.mjs 30
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend, silentLogger } from '@mllm/core';
import { ShapesWorld } from '@mllm/data';
import { WordTokenizer } from '@mllm/tokenizer';
import { buildModel, createComponentRegistry } from '@mllm/model';
import { StageData, FrozenFeatures } from '@mllm/training';
import { wasmHeapBytes } from '@mllm/training/internal';
await initBackend({ backend: 'wasm', logger: silentLogger });
const gib = (b) => (b / 2 ** 30).toFixed(3);
const layers = Number(process.argv[2] ?? 30);
const world = new ShapesWorld({ seed: 1, imageSize: 224, sizes: { train: 16, val: 4, test: 2 } });
const tokenizer = WordTokenizer.train(world.corpus());
const model = buildModel({
  encoder: { type: 'vit', variant: 'siglip', includeCls: false, imageSize: 224, patchSize: 16, dim: 768, layers: Number(process.env.ENC ?? 12), heads: 12, mlpHidden: 3072 },
  connector: { type: 'mlp' },
  llm: { type: 'causal', dim: 576, layers, heads: 9, kvHeads: 3, mlpHidden: 1536, ropeTheta: 100000 },
}, { registry: createComponentRegistry(), vocabSize: Number(process.env.VOCAB ?? 49153), special: { imageTokenId: tokenizer.special.image, padId: tokenizer.special.pad }, seed: 2 });
model.freeze(); model.connector.unfreeze();
const data = new StageData(world, tokenizer, 3);
const rng = data.rngFor(0, 0, 'train');
const batch = model.collate(data.pickScenes(rng, 'train', 1).map((s) => data.tokenize(data.conversation('align', s, rng))));
const cache = new FrozenFeatures(model); model.featureSource = cache; cache.prepare(batch.images);
console.log('T', batch.inputIds[0].length, 'rest', gib(tf.memory().numBytes), 'heap', gib(wasmHeapBytes()));
const vars = model.connector.parameters();
const info = await tf.profile(() => { const { value, grads } = tf.variableGrads(() => model.loss(batch), vars); value.dispose(); Object.values(grads).forEach((g) => g.dispose()); });
console.log('peak', gib(info.peakBytes), 'new', gib(info.newBytes), 'heap', gib(wasmHeapBytes()));
const by = {};
for (const k of info.kernels) { by[k.name] ??= { n: 0, bytes: 0, max: 0 }; by[k.name].n++; const out = k.outputShapes.reduce((a, s) => a + s.reduce((x, y) => x * y, 1) * 4, 0); by[k.name].bytes += out; by[k.name].max = Math.max(by[k.name].max, out); }
console.log(Object.entries(by).sort((a, b) => b[1].bytes - a[1].bytes).slice(0, 15).map(([n, v]) => `${n} x${v.n} out ${gib(v.bytes)} max ${(v.max / 2 ** 20).toFixed(1)}MiB`).join('\n'));
