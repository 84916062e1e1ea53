import { describe, it, expect } from 'vitest';
import { createRegistry } from './registry';
import { parseRunConfig } from '@mllm/training';
import { createSession, createWorld } from './session';

const base = {
  encoder: { type: 'vit', imageSize: 16, patchSize: 8, dim: 16, layers: 2, heads: 2 },
  connector: { type: 'mlp' },
  llm: { type: 'causal', dim: 16, layers: 1, heads: 2 },
  data: { train: 8, val: 2, test: 2 },
  stages: [{ type: 'instruct', steps: 1 }],
};

describe('createWorld', () => {
  it('renders at the encoder image size without highRes', () => {
    const world = createWorld(parseRunConfig(base, createRegistry()));
    expect(world.imageSize).toBe(16);
    expect(world.objectScale).toBe(1);
  });

  it('renders at highRes.inputSize with the data block high-resolution options, for both strategies', () => {
    for (const strategy of ['resize', 'tiles'] as const) {
      const config = parseRunConfig(
        { ...base, encoder: { ...base.encoder, highRes: { strategy, inputSize: 32 } }, data: { ...base.data, objectScale: 0.5, positionGrid: 'image', minBrightness: 0.5 } },
        createRegistry(),
      );
      const session = createSession(config);
      expect(session.world.imageSize).toBe(32);
      expect(session.world.objectScale).toBe(0.5);
      expect(session.world.scenes('train').every((s) => s.objects.every((o) => o.brightness! >= 0.5 && o.brightness! <= 1))).toBe(true);
      expect(session.world.image('train-0').length).toBe(32 * 32 * 3);
      expect(session.model.encoder.imageSize).toBe(32);
      expect(session.model.tokensPerImage).toBe(strategy === 'tiles' ? 4 + 4 * 5 : 4);
    }
  });

  it('rejects an objectScale outside (0, 1] in the data block', () => {
    expect(() => parseRunConfig({ ...base, data: { ...base.data, objectScale: 2 } }, createRegistry())).toThrow(/data\.objectScale/);
  });
});
