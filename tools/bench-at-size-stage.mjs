#!/usr/bin/env node
/**
 * One stage at size without the rest of a run (no HF folder, no evaluation): SigLIP-B/16 at
 * 224 px + mlp + a SmolLM2-width LLM of LAYERS layers with a 49153-id vocabulary, 3 steps on the
 * Shapes world, printing the wasm heap, tfjs tensors and RSS after each step and the stage's
 * `throughput`. EXTRA merges into the stage config (e.g. '{"lora":{"rank":8}}').
 *
 *   EXTRA='{}' node tools/bench-at-size-stage.mjs LAYERS align|instruct BATCH
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend, silentLogger } from '@mllm/core';
import { ShapesWorld } from '@mllm/data';
import { WordTokenizer } from '@mllm/tokenizer';
import { buildModel, createComponentRegistry } from '@mllm/model';
import { StageData, runStage, stageSchema } from '@mllm/training';
import { wasmHeapBytes } from '@mllm/training/internal';
await initBackend({ backend: 'wasm', logger: silentLogger });
const gib = (b) => (b / 2 ** 30).toFixed(2);
const mem = (tag) => console.log(tag, 'heap', gib(wasmHeapBytes() ?? 0), 'tensors', gib(tf.memory().numBytes), 'rss', gib(process.memoryUsage().rss));
const layers = Number(process.argv[2] ?? 30), stageType = process.argv[3] ?? 'align', batch = Number(process.argv[4] ?? 1);
const world = new ShapesWorld({ seed: 1, imageSize: 224, sizes: { train: 16, val: 4, test: 2 } });
const tokenizer = WordTokenizer.train(world.corpus());
mem('start');
const model = buildModel({
  encoder: { type: 'vit', variant: 'siglip', includeCls: false, imageSize: 224, patchSize: 16, dim: 768, layers: 12, heads: 12, mlpHidden: 3072 },
  connector: { type: 'mlp' },
  llm: { type: 'causal', dim: 576, layers, heads: 9, kvHeads: 3, mlpHidden: 1536, ropeTheta: 100000 },
}, { registry: createComponentRegistry(), vocabSize: Number(process.env.VOCAB ?? 49153), special: { imageTokenId: tokenizer.special.image, padId: tokenizer.special.pad }, seed: 2 });
mem('built ' + model.numParameters());
const data = new StageData(world, tokenizer, 3);
const extra = JSON.parse(process.env.EXTRA ?? '{}');
const r = await runStage(stageSchema.parse({ type: stageType, steps: 3, batchSize: batch, lr: 1e-4, warmup: 1, evalEvery: 0, checkpointEvery: 0, ...extra }), 0, model, data, { onStep: (e) => mem(`step ${e.step} ${e.seconds.toFixed(1)}s tokens ${e.tokens}`) });
console.log(JSON.stringify(r.throughput));
