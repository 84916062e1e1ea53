#!/usr/bin/env node
/**
 * The largest LLM each stage may train by the size estimate (batch 1, SigLIP-B/16 at 224 px
 * frozen, mlp connector, 49153-id vocabulary, Shapes data of tools/bench-at-size.mjs): for
 * SmolLM2's widths (576: 135M, 960: 360M) the most decoder layers that fit the wasm heap's 4 GiB
 * and half of a 24 GiB machine (a native backend's limit).
 *
 *   node tools/at-size-ceiling.mjs
 */
import { createRegistry, estimateRunSize, sizeLimits } from '@mllm/run';
import { parseRunConfig } from '@mllm/training';

const registry = createRegistry();
const encoder = { type: 'vit', variant: 'siglip', includeCls: false, imageSize: 224, patchSize: 16, dim: 768, layers: 12, heads: 12, mlpHidden: 3072 };
const widths = { 576: { heads: 9, kvHeads: 3, mlpHidden: 1536 }, 960: { heads: 15, kvHeads: 5, mlpHidden: 2560 } };
const stages = { align: { type: 'align' }, 'instruct full': { type: 'instruct' }, 'instruct LoRA r8': { type: 'instruct', lora: { rank: 8 } } };
// on wasm the heap holds weights, gradients and activations; AdamW's moments are host memory, which a native backend's limit counts
const limits = { 'the wasm heap': [sizeLimits({}, 'wasm').memoryBytes, false], 'half of a 24 GiB machine (native)': [12 * 1024 ** 3, true] };
const gib = (b) => (b / 1024 ** 3).toFixed(2);
const need = (dim, layers, stage, native = false) => {
  const config = parseRunConfig(
    { encoder, connector: { type: 'mlp' }, llm: { type: 'causal', dim, layers, tieWordEmbeddings: true, ...widths[dim] }, data: { train: 64, val: 4, test: 2 }, stages: [{ ...stage, steps: 1, batchSize: 1 }], eval: { batchSize: 1 } },
    registry,
  );
  const e = estimateRunSize(config, registry, { vocabSize: 49153 });
  const b = e.batches[0];
  return { bytes: b.parameterBytes + (native ? b.optimizerBytes : 0) + b.cacheBytes + e.dataBytes + b.activationBytes, parameters: e.totalParameters };
};
console.log('| stage | LLM width | at SmolLM2 depth: wasm heap / native | ' + Object.keys(limits).map((l) => `most layers within ${l}`).join(' | ') + ' |');
console.log('|---|---:|---:|' + Object.keys(limits).map(() => '---:').join('|') + '|');
for (const [name, stage] of Object.entries(stages)) {
  for (const dim of [576, 960]) {
    const depth = dim === 576 ? 30 : 32;
    const at = need(dim, depth, stage);
    const cells = Object.values(limits).map(([limit, native]) => {
      let layers = 0;
      while (layers < 400 && need(dim, layers + 1, stage, native).bytes <= limit) layers++;
      const fit = need(dim, Math.max(layers, 1), stage, native);
      return layers === 0 ? 'none' : `${layers} (${(fit.parameters / 1e6).toFixed(0)}M params, ${gib(fit.bytes)} GiB)`;
    });
    console.log(`| ${name} | ${dim} | ${gib(at.bytes)} / ${gib(need(dim, depth, stage, true).bytes)} GiB (${depth} layers, ${(at.parameters / 1e6).toFixed(0)}M) | ${cells.join(' | ')} |`);
  }
}
