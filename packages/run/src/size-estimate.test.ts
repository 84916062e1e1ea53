import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { buildModel } from '@mllm/model';
import { parseRunConfig } from '@mllm/training';
import { TEXT_TOKENS, estimateRunSize } from './size-estimate';
import { visualTokensPerImage } from './run';
import { createRegistry } from './registry';

const VOCAB = 37;
const stages = [{ type: 'instruct', steps: 1, batchSize: 2 }];
const vit = { type: 'vit', imageSize: 16, patchSize: 4, dim: 16, layers: 2, heads: 2 };
const causal = { type: 'causal', dim: 24, layers: 3, heads: 2 };

/** Every built-in type, in tiny configs: the estimate from the config alone must equal what the built model counts. */
const MODELS: Record<string, { encoder: object; connector: object; llm: object }> = {
  'clip vit, mlp, dense causal': { encoder: vit, connector: { type: 'mlp', depth: 2 }, llm: causal },
  'siglip vit with attention pooling, linear, MoE causal with grouped kv heads': {
    encoder: { ...vit, variant: 'siglip', attentionPool: true, activation: 'gelu-tanh', mlpHidden: 20 },
    connector: { type: 'linear' },
    llm: { ...causal, heads: 4, kvHeads: 2, mlpHidden: 30, ffn: { type: 'moe', experts: 3, topK: 2 } },
  },
  'qformer, prefix LM': { encoder: vit, connector: { type: 'qformer', numQueries: 3, layers: 2, heads: 2, mlpRatio: 2 }, llm: { ...causal, type: 'prefix' } },
  'perceiver of another width, encoder-decoder': {
    encoder: vit,
    connector: { type: 'perceiver', numLatents: 4, dim: 8, heads: 2, layers: 1 },
    llm: { ...causal, type: 'encoder-decoder', encoderLayers: 2 },
  },
  'gated cross-attention every 2nd layer': { encoder: vit, connector: { type: 'gated-cross-attention', every: 2, heads: 2, mlpRatio: 2 }, llm: causal },
  'adapter prompts': { encoder: vit, connector: { type: 'adapter-prompts', prompts: 3, layers: 2 }, llm: causal },
  'visual expert over an mlp projection': { encoder: vit, connector: { type: 'visual-expert', projection: { type: 'mlp', depth: 2, inputNorm: true } }, llm: { ...causal, kvHeads: 1 } },
  'high-res tiles with thumbnail': { encoder: { ...vit, highRes: { strategy: 'tiles', inputSize: 32 } }, connector: { type: 'mlp' }, llm: causal },
  'high-res resize with 2x2 merge': { encoder: { ...vit, highRes: { strategy: 'resize', inputSize: 32, merge: 2 } }, connector: { type: 'mlp', inputNorm: true }, llm: causal },
};

describe('estimateRunSize', () => {
  for (const [name, slots] of Object.entries(MODELS)) {
    it(`counts the parameters of ${name} exactly as the built model does`, () => {
      const registry = createRegistry();
      const config = parseRunConfig({ ...slots, stages }, registry);
      const estimate = estimateRunSize(config, registry, { vocabSize: VOCAB });
      const model = buildModel(config as unknown as Record<string, unknown>, { registry, vocabSize: VOCAB, special: { imageTokenId: 1, padId: 0 }, seed: 0 });
      try {
        expect(estimate.parameters).toEqual({ encoder: model.encoder.numParameters(), connector: model.connector.numParameters(), llm: model.llm.numParameters() });
        expect(estimate.totalParameters).toBe(model.numParameters());
        expect(estimate.sequenceTokens - TEXT_TOKENS).toBe(visualTokensPerImage(model));
      } finally {
        model.dispose();
      }
    });
  }

  it('costs nothing for absurd sizes: 1e9 layers and dim 1e9 are numbers, not loops', () => {
    const registry = createRegistry();
    const config = parseRunConfig({ encoder: { ...vit, layers: 1e9 }, connector: { type: 'mlp' }, llm: { ...causal, dim: 1e9, heads: 2 }, stages }, registry);
    const estimate = estimateRunSize(config, registry, { vocabSize: VOCAB });
    expect(estimate.parameters.encoder).toBeGreaterThan(1e9 * 12 * 16 * 16);
    // LLM: two vocab x dim matrices and 3 layers of 4 dim^2 attention + 3 dim x 8/3 dim SwiGLU
    expect(estimate.parameters.llm! / (3 * 12 * 1e18)).toBeCloseTo(1, 2);
  });

  it('leaves a plugin type without an estimator unknown instead of guessing', () => {
    const registry = createRegistry();
    registry.connectors.register('plugin-linear', z.object({ type: z.literal('plugin-linear') }), () => {
      throw new Error('not built in this test');
    });
    const config = parseRunConfig({ encoder: vit, connector: { type: 'plugin-linear' }, llm: causal, stages }, registry);
    const estimate = estimateRunSize(config, registry, { vocabSize: VOCAB });
    expect(estimate.parameters.connector).toBeUndefined();
    expect(estimate.totalParameters).toBeUndefined();
    expect(estimate.parameters.llm).toBeGreaterThan(0);
  });
});
