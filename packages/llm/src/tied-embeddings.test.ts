import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { CheckpointError, Rng, maskedCrossEntropy } from '@mllm/core';
import { CausalLM, causalLmSchema } from './causal-lm';
import { PrefixLM, prefixLmSchema } from './prefix-lm';
import { EncoderDecoderLM, encoderDecoderLmSchema } from './encoder-decoder-lm';
import { estimateDecoderOnly, estimateEncoderDecoder } from './size-estimate';

const V = 23;
const tiny = (tie: boolean) => causalLmSchema.parse({ type: 'causal', dim: 16, layers: 2, heads: 4, kvHeads: 2, mlpHidden: 24, tieWordEmbeddings: tie });
const IDS = tf.tensor2d([[1, 5, 9, 22, 3], [0, 2, 2, 7, 11]], undefined, 'int32');

/** Loss of the next-token prediction over every position, so every logit row gets a gradient. */
function lossOf(model: CausalLM): tf.Scalar {
  const { logits } = model.forward(model.embed(IDS));
  const targets = IDS.slice([0, 1], [-1, -1]).reshape([8]) as tf.Tensor1D;
  return maskedCrossEntropy(logits.slice([0, 0, 0], [-1, 4, -1]).reshape([8, V]) as tf.Tensor2D, targets, tf.ones([8]) as tf.Tensor1D);
}

describe('tied word embeddings (HF tie_word_embeddings)', () => {
  it('logits are hidden @ embed_tokens.weight^T, with no lm_head parameter', () => {
    const model = new CausalLM(tiny(true), V, new Rng(1));
    expect(model.lmHead).toBeUndefined();
    expect(Object.keys(model.stateDict()).filter((n) => n.startsWith('lm_head'))).toEqual([]);
    const { hidden, logits } = model.forward(model.embed(IDS));
    const h = hidden.arraySync();
    const e = model.embedTokens.weight.arraySync() as number[][];
    const got = logits.arraySync();
    expect(logits.shape).toEqual([2, 5, V]);
    for (const [b, t, v] of [[0, 0, 0], [1, 4, 22], [0, 3, 11], [1, 1, 5]] as const)
      expect(got[b]![t]![v]!).toBeCloseTo(h[b]![t]!.reduce((s, x, i) => s + x * e[v]![i]!, 0), 5);
    model.dispose();
  });

  it('the embedding gradient sums both uses: grad_E(tied) = grad_E(untied) + grad_head(untied) when head = E', () => {
    const tied = new CausalLM(tiny(true), V, new Rng(2));
    const untied = new CausalLM(tiny(false), V, new Rng(3));
    const state = tied.stateDict();
    untied.loadStateDict({ ...state, 'lm_head.weight': state['model.embed_tokens.weight']! });
    const gradE = (m: CausalLM, head?: tf.Variable) => {
      const vars = [m.embedTokens.weight, ...(head ? [head] : [])];
      const { value, grads } = tf.variableGrads(() => lossOf(m), vars);
      return { loss: value.dataSync()[0]!, e: grads[m.embedTokens.weight.name]!, head: head ? grads[head.name] : undefined };
    };
    const a = gradE(tied);
    const b = gradE(untied, untied.lmHead!.weight);
    expect(a.loss).toBeCloseTo(b.loss, 5);
    const want = b.e.add(b.head!);
    const gap = a.e.sub(want).abs().max().dataSync()[0]!;
    expect(gap).toBeLessThan(1e-5);
    expect(b.head!.abs().max().dataSync()[0]!).toBeGreaterThan(1e-3); // the head's share is not negligible, so a tape missing it would fail
    tied.dispose();
    untied.dispose();
  });

  it('numParameters equals the size estimate, one V x D matrix fewer than untied', () => {
    for (const tie of [true, false]) {
      const model = new CausalLM(tiny(tie), V, new Rng(4));
      expect(model.numParameters()).toBe(estimateDecoderOnly(model.config, { vocabSize: V }).parameters);
      model.dispose();
    }
    const untied = estimateDecoderOnly(tiny(false), { vocabSize: V }).parameters;
    expect(untied - estimateDecoderOnly(tiny(true), { vocabSize: V }).parameters).toBe(V * 16);
    const prefix = new PrefixLM(prefixLmSchema.parse({ type: 'prefix', dim: 16, layers: 1, heads: 4, tieWordEmbeddings: true }), V, new Rng(5));
    expect(prefix.lmHead).toBeUndefined();
    expect(prefix.numParameters()).toBe(estimateDecoderOnly(prefix.prefixConfig, { vocabSize: V }).parameters);
    prefix.dispose();
    const ed = new EncoderDecoderLM(encoderDecoderLmSchema.parse({ type: 'encoder-decoder', dim: 16, layers: 1, heads: 4, tieWordEmbeddings: true }), V, new Rng(6));
    expect(ed.lmHead).toBeUndefined();
    expect(ed.numParameters()).toBe(estimateEncoderDecoder(ed.config, { vocabSize: V }).parameters);
    ed.dispose();
  });

  it('SmolLM2-135M (tied, 30 layers, 576 wide, 9/3 heads, mlp 1536, vocab 49152) counts 134,515,008 parameters, as transformers does', () => {
    const config = causalLmSchema.parse({ type: 'causal', dim: 576, layers: 30, heads: 9, kvHeads: 3, mlpHidden: 1536, tieWordEmbeddings: true });
    expect(estimateDecoderOnly(config, { vocabSize: 49152 }).parameters).toBe(134_515_008);
    expect(estimateDecoderOnly({ ...config, tieWordEmbeddings: false }, { vocabSize: 49152 }).parameters).toBe(134_515_008 + 49152 * 576);
  });

  it('a saved state round-trips; an untied state (with lm_head) does not load silently into a tied model', () => {
    const a = new CausalLM(tiny(true), V, new Rng(7));
    const b = new CausalLM(tiny(true), V, new Rng(8));
    b.loadStateDict(a.stateDict());
    const gap = a.forward(a.embed(IDS)).logits.sub(b.forward(b.embed(IDS)).logits).abs().max().dataSync()[0]!;
    expect(gap).toBe(0);
    const untied = new CausalLM(tiny(false), V, new Rng(9));
    expect(() => b.loadStateDict(untied.stateDict(), { source: 'old.safetensors' })).toThrow(CheckpointError);
    expect(() => b.loadStateDict(untied.stateDict(), { source: 'old.safetensors' })).toThrow(/unexpected 1: lm_head\.weight/);
    expect(() => untied.loadStateDict(a.stateDict())).toThrow(/missing 1: lm_head\.weight/);
    for (const m of [a, b, untied]) m.dispose();
  });

  it('defaults to untied, so existing configs keep their own lm_head', () => {
    expect(causalLmSchema.parse({ type: 'causal' }).tieWordEmbeddings).toBe(false);
    expect(() => causalLmSchema.parse({ type: 'causal', tieWordEmbeddings: 'yes' })).toThrow(/tieWordEmbeddings/);
  });
});
