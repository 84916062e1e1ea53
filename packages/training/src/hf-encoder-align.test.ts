import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng, saveHfFolder } from '@mllm/core';
import { VisionTransformer, vitSchema } from '@mllm/encoders';
import { buildModel, createComponentRegistry } from '@mllm/model';
import { runStage } from './run-stage';
import { parseRunConfig } from './run-config';
import { StageData } from './stage-data';
import { tokenizer, valuesOf, world } from './tiny-run.test-helper';

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'hf-encoder-align-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A tiny random tower written in the HF layout (config.json + model.safetensors, vision_model.* names). */
async function writeTower(dir: string, variant: 'clip' | 'siglip'): Promise<Record<string, number[]>> {
  const shape = { hidden_size: 16, intermediate_size: 40, num_hidden_layers: 2, num_attention_heads: 2, image_size: 16, patch_size: 8 };
  const ours = new VisionTransformer(
    vitSchema.parse({ type: 'vit', variant, imageSize: 16, patchSize: 8, dim: 16, layers: 2, heads: 2, mlpHidden: 40, activation: variant === 'clip' ? 'quick-gelu' : 'gelu-tanh', attentionPool: variant === 'siglip' }),
    new Rng(variant === 'clip' ? 11 : 12),
  );
  const tensors = Object.fromEntries(ours.namedParameters().map(([n, p]) => [`vision_model.${n}`, p]));
  await saveHfFolder(dir, { model_type: `${variant}_vision_model`, ...shape }, tensors);
  const values = valuesOf(ours.namedParameters());
  ours.dispose();
  return values;
}

describe('a run config whose encoder comes from a HuggingFace folder', () => {
  it.each(['clip', 'siglip'] as const)('%s: builds with the checkpoint weights and align trains the connector alone (loss falls, encoder unchanged)', async (variant) => {
    const dir = join(root, variant);
    const checkpoint = await writeTower(dir, variant);
    const config = parseRunConfig(
      {
        encoder: { type: 'vit', from: `hf:${dir}` },
        connector: { type: 'mlp' },
        llm: { type: 'causal', dim: 32, layers: 1, heads: 2 },
        stages: [{ type: 'align', steps: 40, batchSize: 8, lr: 0.01, warmup: 2 }],
      },
      createComponentRegistry(),
    );
    expect(config.encoder).toMatchObject({ from: `hf:${dir}`, variant, dim: 16, imageSize: 16, featureLayer: 'penultimate', includeCls: false });
    const model = buildModel(config as unknown as Record<string, unknown>, {
      registry: createComponentRegistry(),
      vocabSize: tokenizer.vocabSize,
      special: { imageTokenId: tokenizer.special.image, padId: tokenizer.special.pad },
      seed: 3,
    });
    const encoderWeights = () => valuesOf(model.encoder.namedParameters());
    expect(encoderWeights()).toEqual(checkpoint);
    expect(model.encoder.numTokens).toBe(4);
    const data = new StageData(world, tokenizer, 5);
    const untrained = await runStage({ ...config.stages[0]!, steps: 0 }, 0, model, data);
    const trained = await runStage(config.stages[0]!, 0, model, data);
    expect(trained.trains).toEqual(['connector']);
    expect(trained.valLoss).toBeLessThan(untrained.valLoss);
    expect(encoderWeights()).toEqual(checkpoint);
    model.dispose();
  });
});
