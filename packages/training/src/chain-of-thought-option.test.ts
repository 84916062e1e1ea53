import { describe, it, expect } from 'vitest';
import { ConfigError } from '@mllm/core';
import { createComponentRegistry } from '@mllm/model';
import { parseRunConfig, stageSchema } from './run-config';
import { trainedChainStyle, trainsChainOfThought } from './stage-data';

const instruct = (chainOfThought?: unknown) => stageSchema.parse({ type: 'instruct', steps: 1, ...(chainOfThought !== undefined && { chainOfThought }) });
const cot = (s: ReturnType<typeof instruct>) => (s.type === 'instruct' ? s.chainOfThought : undefined);

describe('instruct chainOfThought', () => {
  it('the number form keeps its meaning: that share with the original chains; absent is none', () => {
    expect(cot(instruct(0.15))).toEqual({ share: 0.15, style: 'objects', length: 'fixed', carry: 'listed', infilling: 0, counterfactual: 0 });
    expect(cot(instruct())).toEqual({ share: 0, style: 'objects', length: 'fixed', carry: 'listed', infilling: 0, counterfactual: 0 });
    expect(trainsChainOfThought([instruct()])).toBe(false);
    expect(trainsChainOfThought([instruct(0.15)])).toBe(true);
    expect(trainedChainStyle([instruct(0.15)])).toBeUndefined();
  });

  it('the object form names style, length, carry and the infilling share, with defaults', () => {
    expect(cot(instruct({ share: 0.5 }))).toEqual({ share: 0.5, style: 'single', length: 'fixed', carry: 'listed', infilling: 0, counterfactual: 0 });
    const tree = instruct({ share: 0.4, style: 'tree', length: 'adaptive', carry: 'running', infilling: 0.25 });
    expect(cot(tree)).toEqual({ share: 0.4, style: 'tree', length: 'adaptive', carry: 'running', infilling: 0.25, counterfactual: 0 });
    expect(cot(instruct({ share: 0.5, carry: 'described', counterfactual: 0.5 }))).toMatchObject({ carry: 'described', length: 'fixed', counterfactual: 0.5 });
    expect(trainedChainStyle([tree])).toMatchObject({ style: 'tree' });
    expect(trainedChainStyle([instruct({ share: 0, style: 'tree' })])).toBeUndefined();
  });

  it('a bad value is a ConfigError naming the path and what is allowed', () => {
    const config = (chainOfThought: unknown) => ({
      encoder: { type: 'vit', imageSize: 16, patchSize: 8, dim: 16, layers: 1, heads: 2 },
      connector: { type: 'mlp' },
      llm: { type: 'causal', dim: 32, layers: 1, heads: 2 },
      stages: [{ type: 'instruct', steps: 1, chainOfThought }],
    });
    const parse = (c: unknown) => () => parseRunConfig(config(c), createComponentRegistry());
    expect(parse({ share: 0.5, style: 'graph' })).toThrow(ConfigError);
    expect(parse({ share: 0.5, style: 'graph' })).toThrow(/stages\[0\]\.chainOfThought\.style.*single.*tree/s);
    expect(parse({ share: 0.5, length: 'long' })).toThrow(/stages\[0\]\.chainOfThought\.length.*fixed.*adaptive/s);
    expect(parse({ share: 0.5, steps: 3 })).toThrow(/stages\[0\]\.chainOfThought.*steps/s);
    expect(parse({ style: 'tree' })).toThrow(/stages\[0\]\.chainOfThought\.share/);
    expect(parse({ share: 0.5, style: 'objects', infilling: 0.5 })).toThrow(/stages\[0\]\.chainOfThought\.infilling.*single.*tree/s);
    expect(parse({ share: 0.5, carry: 'kept' })).toThrow(/stages\[0\]\.chainOfThought\.carry.*listed.*running/s);
    expect(parse({ share: 0.5, style: 'objects', carry: 'running' })).toThrow(/stages\[0\]\.chainOfThought\.carry.*single.*tree/s);
    expect(parse(1.5)).toThrow(/stages\[0\]\.chainOfThought\.share.*1/);
    expect(parse("half")).toThrow(/stages\[0\]\.chainOfThought/);
    expect(parse({ share: 0.5, style: 'tree', length: 'adaptive', infilling: 0.5 })).not.toThrow();
    // a counterfactual chain needs every cell described before a step reads it
    expect(parse({ share: 0.5, carry: 'running', counterfactual: 0.5 })).toThrow(/stages\[0\]\.chainOfThought\.counterfactual.*fixed.*described/s);
    expect(parse({ share: 0.5, carry: 'described', length: 'adaptive', counterfactual: 0.5 })).toThrow(/chainOfThought\.counterfactual/);
    expect(parse({ share: 0.5, style: 'objects', counterfactual: 0.5 })).toThrow(/chainOfThought\.counterfactual/);
    expect(parse({ share: 0.5, carry: 'described', counterfactual: 1.5 })).toThrow(/chainOfThought\.counterfactual.*1/);
    expect(parse({ share: 0.5, carry: 'described', counterfactual: 0.5 })).not.toThrow();
  });
});
