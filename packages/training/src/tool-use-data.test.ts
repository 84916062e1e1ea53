import { describe, it, expect } from 'vitest';
import { Rng } from '@mllm/core';
import { createComponentRegistry } from '@mllm/model';
import { parseRunConfig, stageSchema } from './run-config';
import { pickToolKind } from './stage-data';
import { trainsToolUse } from './tools-config';

const base = {
  encoder: { type: 'vit', imageSize: 32, patchSize: 16, dim: 16, layers: 1, heads: 2 },
  connector: { type: 'mlp', depth: 2 },
  llm: { type: 'causal', dim: 16, layers: 1, heads: 2 },
  stages: [{ type: 'instruct', steps: 1 }, { type: 'instruct', steps: 1, toolUse: 0.5 }],
};

describe('tool-use traces as instruct data', () => {
  it('draws nothing from the batch stream when a stage has no toolUse share, so other runs keep their batches', () => {
    const [a, b] = [new Rng(5), new Rng(5)];
    expect(pickToolKind(a, 0)).toBeUndefined();
    expect(a.next()).toBe(b.next());
  });

  it('makes that share of batches tool traces', () => {
    const rng = new Rng(9);
    const n = 4000;
    const traces = Array.from({ length: n }, () => pickToolKind(rng, 0.3)).filter((k) => k === 'tool-trace').length;
    expect(traces / n).toBeGreaterThan(0.27);
    expect(traces / n).toBeLessThan(0.33);
  });

  it('toolUse defaults to 0 and must lie in [0, 1]', () => {
    expect((stageSchema.parse({ type: 'instruct', steps: 1 }) as { toolUse: number }).toolUse).toBe(0);
    expect(stageSchema.safeParse({ type: 'instruct', steps: 1, toolUse: 1.5 }).success).toBe(false);
  });

  it('a run config takes a tools section with defaults, and knows from which stage on the controller is finetuned', () => {
    const config = parseRunConfig({ ...base, tools: {} }, createComponentRegistry());
    expect(config.tools).toEqual({ use: [{ type: 'detect' }, { type: 'count' }, { type: 'compare' }], detector: { steps: 400, batchSize: 64, lr: 0.003 }, maxCalls: 3, scenes: 100 });
    expect(trainsToolUse(config.stages, 1)).toBe(false);
    expect(trainsToolUse(config.stages, 2)).toBe(true);
    expect(() => parseRunConfig({ ...base, tools: { maxCalls: 0 } }, createComponentRegistry())).toThrow(/tools\.maxCalls/);
    expect(parseRunConfig(base, createComponentRegistry()).tools).toBeUndefined();
  });
});
