import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { ConfigError, Rng } from '@mllm/core';
import { buildModel, createComponentRegistry } from '@mllm/model';
import { runStage } from './run-stage';
import { parseRunConfig, stageSchema } from './run-config';
import { StageData } from './stage-data';
import { LoraAdapters, loraSchema } from './lora';
import { make, tokenizer, valuesOf, world } from './tiny-run.test-helper';

const batchOf = (model: ReturnType<typeof make>, data: StageData) => {
  const rng = data.rngFor(0, 0, 'train');
  return model.collate(data.pickScenes(rng, 'train', 4).map((s) => data.tokenize(data.conversation('instruct', s, rng))));
};

describe('LoRA', () => {
  it('with B zero gives the base model exactly; its forward is W + (alpha / r) B A', () => {
    const model = make();
    const data = new StageData(world, tokenizer, 1);
    const batch = batchOf(model, data);
    const base = model.forward(batch);
    const lora = new LoraAdapters(model.llm, loraSchema.parse({ rank: 2, alpha: 4, targets: ['q_proj', 'v_proj'] }), new Rng(3), 'language_model.');
    expect(lora.count).toBe(2); // one layer, q and v
    const adapted = model.forward(batch);
    expect(Array.from(adapted.dataSync())).toEqual(Array.from(base.dataSync()));

    // a non-zero B: the adapted forward equals a model whose weights hold W + 2 B A, computed here on plain arrays
    const [name, adapter] = lora.module.namedChildren()[0]!;
    expect(name).toBe('language_model.model.layers.0.self_attn.q_proj');
    const a = adapter.namedParameters().find(([n]) => n === 'lora_A')![1];
    const b = adapter.namedParameters().find(([n]) => n === 'lora_B')![1];
    const bValues = Array.from({ length: b.size }, (_, i) => Math.sin(i + 1) * 0.1);
    b.assign(tf.tensor(bValues, b.shape));
    const withB = model.forward(batch);
    const [out, r] = b.shape as [number, number];
    const inF = a.shape[1]!;
    const aValues = a.dataSync();
    const weight = model.namedParameters().find(([n]) => n === 'language_model.model.layers.0.self_attn.q_proj.weight')![1];
    const w = Array.from(weight.dataSync());
    const expected = w.map((x, k) => {
      const [o, i] = [Math.floor(k / inF), k % inF];
      let s = 0;
      for (let j = 0; j < r; j++) s += bValues[o * r + j]! * aValues[j * inF + i]!;
      return x + 2 * s; // alpha / rank = 2
    });
    lora.detach();
    expect(Array.from(model.forward(batch).dataSync())).toEqual(Array.from(base.dataSync())); // detached: the base model again
    weight.assign(tf.tensor(expected, weight.shape));
    const reference = model.forward(batch).dataSync();
    withB.dataSync().forEach((x, i) => expect(x).toBeCloseTo(reference[i]!, 4));
    expect(out).toBe(weight.shape[0]);
  });

  it('an instruct stage with lora trains only the adapters, lowers the loss and merges them into the saved weights', async () => {
    const model = make();
    const data = new StageData(world, tokenizer, 2);
    const before = valuesOf(model.namedParameters());
    const batch = batchOf(model, data);
    const stage = stageSchema.parse({ type: 'instruct', steps: 30, batchSize: 8, lr: 0.01, warmup: 2, evalEvery: 0, lora: { rank: 4, alpha: 8 } });
    const losses: number[] = [];
    let checkpointExtra: string[] = [];
    const result = await runStage({ ...stage, checkpointEvery: 10 }, 0, model, data, {
      onStep: (e) => void losses.push(e.loss),
      onCheckpoint: async ({ extra }) => void (checkpointExtra = extra!.namedParameters().map(([n]) => n)),
    });
    const layerAdapters = 4 * 4 * (32 + 32); // q, k, v, o of the one 32-wide layer, A and B at rank 4
    expect(result.lora).toEqual({ rank: 4, alpha: 8, targets: ['q_proj', 'k_proj', 'v_proj', 'o_proj'], adapters: 4 });
    expect(result.trainableParameters).toBe(model.connector.numParameters() + layerAdapters);
    expect(checkpointExtra).toContain('language_model.model.layers.0.self_attn.q_proj.lora_A');
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b) / xs.length;
    expect(mean(losses.slice(-5))).toBeLessThan(mean(losses.slice(0, 5)));
    // merged: the model has no adapters and no extra parameters, and its targeted weights moved
    expect(model.namedParameters().map(([n]) => n)).toEqual(Object.keys(before));
    const after = valuesOf(model.namedParameters());
    expect(after['language_model.model.layers.0.self_attn.q_proj.weight']).not.toEqual(before['language_model.model.layers.0.self_attn.q_proj.weight']);
    expect(after['language_model.model.layers.0.mlp.up_proj.weight']).toEqual(before['language_model.model.layers.0.mlp.up_proj.weight']);
    expect(after['language_model.model.embed_tokens.weight']).toEqual(before['language_model.model.embed_tokens.weight']);
    // the merged weights alone (a reloaded model) give the trained model's loss
    const reloaded = make();
    reloaded.loadStateDict(model.stateDict());
    expect(reloaded.loss(batch).dataSync()[0]).toBeCloseTo(model.loss(batch).dataSync()[0]!, 5);
  });

  it('refuses targets that name no linear layer, and lora on a stage that does not train the LLM', () => {
    const model = make();
    expect(() => new LoraAdapters(model.llm, loraSchema.parse({ targets: ['q_proj', 'qkv'] }), new Rng(1))).toThrow(/"qkv" names no linear layer of the LLM; its linear layers are .*q_proj/);
    // a tied head is the embedding matrix, not a Linear: an adapter there would untie it
    const withLlm = (llm: Record<string, unknown>) =>
      buildModel(
        { encoder: { type: 'vit', imageSize: 16, patchSize: 8, dim: 16, layers: 1, heads: 2 }, connector: { type: 'mlp' }, llm: { type: 'causal', dim: 16, layers: 1, heads: 2, ...llm } },
        { registry: createComponentRegistry(), vocabSize: tokenizer.vocabSize, special: { imageTokenId: tokenizer.special.image, padId: tokenizer.special.pad }, seed: 2 },
      );
    const tied = withLlm({ tieWordEmbeddings: true });
    expect(new LoraAdapters(tied.llm, loraSchema.parse({ targets: ['q_proj'] }), new Rng(1)).count).toBe(1);
    expect(() => new LoraAdapters(tied.llm, loraSchema.parse({ targets: ['q_proj', 'lm_head'] }), new Rng(1))).toThrow(/"lm_head" names no linear layer[\s\S]*tied to embed_tokens/);
    const untied = withLlm({});
    expect(new LoraAdapters(untied.llm, loraSchema.parse({ targets: ['lm_head'] }), new Rng(1)).count).toBe(1);
    tied.dispose();
    untied.dispose();
    const config = {
      encoder: { type: 'vit', imageSize: 16, patchSize: 8, dim: 16, layers: 1, heads: 2 },
      connector: { type: 'mlp' },
      llm: { type: 'causal', dim: 32, layers: 1, heads: 2 },
      stages: [{ type: 'align', steps: 1, lora: {} }],
    };
    expect(() => parseRunConfig(config, createComponentRegistry())).toThrow(ConfigError);
    expect(() => parseRunConfig(config, createComponentRegistry())).toThrow(/stages\[0\]\.lora.*add "llm" to stages\[0\]\.trains/s);
    expect(() => parseRunConfig({ ...config, stages: [{ type: 'align', steps: 1, trains: ['connector', 'llm'], lora: { rank: 2 } }] }, createComponentRegistry())).not.toThrow();
  });
});
