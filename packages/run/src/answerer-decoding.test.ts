import { describe, it, expect } from 'vitest';
import { Rng } from '@mllm/core';
import { ShapesWorld } from '@mllm/data';
import type { MultimodalModel } from '@mllm/model';
import { WordTokenizer } from '@mllm/tokenizer';
import { parseRunConfig } from '@mllm/training';
import { modelAnswerer } from './answerer';
import { createRegistry } from './registry';

const world = new ShapesWorld({ seed: 0, imageSize: 32, sizes: { train: 4, val: 2, test: 2 } });
const tokenizer = WordTokenizer.train(world.corpus());

describe('evaluation with in-process mitigation', () => {
  it('passes eval.decoding to every generation, beside the answerer\'s own length and stop tokens', async () => {
    const seen: Record<string, unknown>[] = [];
    const model = { generate: (prompts: unknown[], options: Record<string, unknown>) => (seen.push(options), prompts.map(() => [])) } as unknown as MultimodalModel;
    const decoding = { contrastive: { alpha: 1, beta: 0.1 }, imageNoise: { noiseStep: 500, seed: 0 }, imageAttention: { alpha: 0.5, fromLayer: 1 } };
    await modelAnswerer(model, tokenizer, world, 7, decoding).answer([{ sceneId: world.scenes('test')[0]!.id, prompt: 'describe the image .' }]);
    expect(seen[0]).toEqual({ ...decoding, maxNewTokens: 7, stopTokens: [tokenizer.special.end, tokenizer.special.eos] });
    await modelAnswerer(model, tokenizer, world, 7).answer([{ sceneId: world.scenes('test')[0]!.id, prompt: 'describe the image .' }]);
    expect(seen[1]).toEqual({ maxNewTokens: 7, stopTokens: [tokenizer.special.end, tokenizer.special.eos] });
  });

  it('samples under eval.sampling from one seeded stream that runs on across calls', async () => {
    const seen: Record<string, unknown>[] = [];
    const model = { generate: (prompts: unknown[], options: Record<string, unknown>) => (seen.push(options), prompts.map(() => [])) } as unknown as MultimodalModel;
    const answerer = modelAnswerer(model, tokenizer, world, 7, {}, { temperature: 1, topP: 0.9, seed: 3 });
    const request = [{ sceneId: world.scenes('test')[0]!.id, prompt: 'describe the image .' }];
    await answerer.answer(request);
    await answerer.answer(request);
    const { rng, ...rest } = seen[0]!;
    expect(rest).toEqual({ temperature: 1, topP: 0.9, maxNewTokens: 7, stopTokens: [tokenizer.special.end, tokenizer.special.eos] });
    // the same stream both times (so the second call draws on from where the first stopped), seeded by `seed`
    expect(seen[1]!.rng).toBe(rng);
    const seeded = new Rng(3);
    expect([0, 1, 2].map(() => (rng as Rng).next())).toEqual([0, 1, 2].map(() => seeded.next()));
  });

  it('validates eval.decoding in the config, naming the path', () => {
    const base = {
      encoder: { type: 'vit', imageSize: 32, patchSize: 16, dim: 16, layers: 1, heads: 2 },
      connector: { type: 'mlp' },
      llm: { type: 'causal', dim: 16, layers: 1, heads: 2 },
      stages: [{ type: 'instruct', steps: 1 }],
    };
    const parsed = parseRunConfig({ ...base, eval: { decoding: { contrastive: { alpha: 1 } } } }, createRegistry());
    expect(parsed.eval.decoding).toEqual({ contrastive: { alpha: 1, beta: 0.1 } });
    expect(() => parseRunConfig({ ...base, eval: { decoding: { contrastive: { alpha: 1, beta: 2 } } } }, createRegistry())).toThrow(/eval\.decoding\.contrastive\.beta/);
    expect(() => parseRunConfig({ ...base, eval: { decoding: { imageNoise: { noiseStep: 1000 } } } }, createRegistry())).toThrow(/eval\.decoding\.imageNoise\.noiseStep/);
    expect(() => parseRunConfig({ ...base, eval: { decoding: { vcd: true } } }, createRegistry())).toThrow(/eval\.decoding/);
    expect(parseRunConfig({ ...base, eval: { sampling: { temperature: 0.7 } } }, createRegistry()).eval.sampling).toEqual({ temperature: 0.7, seed: 0 });
    expect(() => parseRunConfig({ ...base, eval: { sampling: { temperature: 0 } } }, createRegistry())).toThrow(/eval\.sampling\.temperature: must be > 0 \(leave eval\.sampling out for greedy answers\)/);
    expect(() => parseRunConfig({ ...base, eval: { sampling: { temperature: 1, topP: 2 } } }, createRegistry())).toThrow(/eval\.sampling\.topP/);
  });
});
