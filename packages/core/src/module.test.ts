import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { TransformerBlock } from './nn/transformer-block';
import { Rng } from './rng';
import { CheckpointError } from './errors';

const block = () => new TransformerBlock({ dim: 8, numHeads: 2, mlpHidden: 16, style: 'llama' }, new Rng(1));

describe('Module', () => {
  it('names parameters with HF dotted paths', () => {
    expect(Object.keys(block().stateDict()).sort()).toEqual([
      'input_layernorm.weight',
      'mlp.down_proj.weight',
      'mlp.gate_proj.weight',
      'mlp.up_proj.weight',
      'post_attention_layernorm.weight',
      'self_attn.k_proj.weight',
      'self_attn.o_proj.weight',
      'self_attn.q_proj.weight',
      'self_attn.v_proj.weight',
    ]);
  });

  it('loads a state dict by name and is reproducible from a seed', () => {
    const a = block();
    const b = block();
    expect(a.stateDict()['mlp.up_proj.weight']!.dataSync()).toEqual(b.stateDict()['mlp.up_proj.weight']!.dataSync());
    const c = new TransformerBlock({ dim: 8, numHeads: 2, mlpHidden: 16, style: 'llama' }, new Rng(2));
    c.loadStateDict(a.stateDict());
    expect(c.stateDict()['self_attn.q_proj.weight']!.dataSync()).toEqual(a.stateDict()['self_attn.q_proj.weight']!.dataSync());
  });

  it('strict loading reports missing, unexpected and mis-shaped tensors by name', () => {
    const sd = { ...block().stateDict() };
    delete sd['mlp.up_proj.weight'];
    sd['extra.weight'] = tf.zeros([2]);
    sd['input_layernorm.weight'] = tf.zeros([3]);
    expect(() => block().loadStateDict(sd, { source: 'x.safetensors' })).toThrow(CheckpointError);
    expect(() => block().loadStateDict(sd)).toThrow(/missing 1: mlp.up_proj.weight.*unexpected 1: extra.weight.*input_layernorm.weight expected \[8\] got \[3\]/);
    const report = block().loadStateDict(sd, { strict: false });
    expect(report.missing).toEqual(['mlp.up_proj.weight']);
  });

  it('freeze stops trainability everywhere below, unfreeze restores it', () => {
    const b = block();
    expect(b.numParameters({ trainableOnly: true })).toBe(b.numParameters());
    b.mlp.freeze();
    expect(b.numParameters({ trainableOnly: true })).toBe(b.numParameters() - 3 * 8 * 16);
    b.unfreeze();
    expect(b.trainableParameters().length).toBe(9);
  });
});
