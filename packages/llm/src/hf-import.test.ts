import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CheckpointError, ConfigError, loadHfFolder } from '@mllm/core';
import { loadHfCausalLm } from './hf-import';
import { causalSpecFromHf, mergeHfLlmConfig } from './hf-config';
import { causalLmSchema } from './causal-lm';
import { estimateDecoderOnly } from './size-estimate';
import { hfCausalLmReference, toFloat64, writeTinyHfCausalLm, type ReferenceConfig } from './hf-reference.test-helper';

const tmp = () => mkdtempSync(join(tmpdir(), 'hf-llm-'));
const IDS = [
  [1, 7, 42, 3, 19, 0, 49],
  [5, 5, 8, 31, 2, 27, 11],
];

/** Max |ours - reference| over every logit, with the reference computed from the folder's stored (rounded) weights. */
async function parityGap(dir: string): Promise<{ gap: number; scale: number }> {
  const folder = await loadHfFolder(dir);
  const want = hfCausalLmReference(folder.config as unknown as ReferenceConfig, toFloat64(folder.tensors), IDS);
  const { model } = await loadHfCausalLm(folder);
  const got = model.forward(model.embed(tf.tensor2d(IDS, undefined, 'int32'))).logits.arraySync();
  let gap = 0;
  let scale = 0;
  want.forEach((row, b) => row.forEach((logits, t) => logits.forEach((v, i) => {
    gap = Math.max(gap, Math.abs(v - got[b]![t]![i]!));
    scale = Math.max(scale, Math.abs(v));
  })));
  model.dispose();
  return { gap, scale };
}

describe('HF LlamaForCausalLM import', () => {
  it('matches a float64 reference written from modeling_llama.py (GQA, untied lm_head) to 1e-4', async () => {
    const dir = tmp();
    await writeTinyHfCausalLm(dir);
    const { gap, scale } = await parityGap(dir);
    expect(scale).toBeGreaterThan(1); // logits big enough that a wrong convention shows
    expect(gap).toBeLessThan(1e-4);
  });

  it('ties lm_head to embed_tokens, reads shards and BF16, and drops saved rotary inv_freq buffers', async () => {
    const dir = tmp();
    await writeTinyHfCausalLm(dir, { tie: true, shards: 3, floatDtype: 'BF16', invFreqBuffers: true, config: { rope_theta: 500000, rms_norm_eps: 1e-6, num_key_value_heads: 1 } });
    const { gap } = await parityGap(dir);
    expect(gap).toBeLessThan(1e-4);
    const { model, spec } = await loadHfCausalLm(dir);
    expect(spec.tieWordEmbeddings).toBe(true);
    expect(model.config.ropeTheta).toBe(500000);
    expect(model.config.kvHeads).toBe(1);
    expect(model.config.tieWordEmbeddings).toBe(true);
    expect(model.lmHead).toBeUndefined(); // one shared matrix, as transformers ties it
    expect(Object.keys(model.stateDict())).not.toContain('lm_head.weight');
    expect(model.numParameters()).toBe(estimateDecoderOnly(model.config, { vocabSize: 50 }).parameters);
    model.dispose();
  });

  it('a tied checkpoint that also saves lm_head loads when it equals embed_tokens, and is refused when it differs', async () => {
    const dir = tmp();
    await writeTinyHfCausalLm(dir, { tie: true });
    const folder = await loadHfFolder(dir);
    const want = hfCausalLmReference(folder.config as unknown as ReferenceConfig, toFloat64(folder.tensors), IDS);
    folder.tensors['lm_head.weight'] = folder.tensors['model.embed_tokens.weight']!.clone();
    const { model } = await loadHfCausalLm(folder);
    const got = model.forward(model.embed(tf.tensor2d(IDS, undefined, 'int32'))).logits.arraySync();
    expect(Math.max(...want.flatMap((row, b) => row.flatMap((l, t) => l.map((v, i) => Math.abs(v - got[b]![t]![i]!)))))).toBeLessThan(1e-4);
    model.dispose();
    folder.tensors['lm_head.weight'] = folder.tensors['lm_head.weight'].add(0.5);
    await expect(loadHfCausalLm(folder)).rejects.toThrow(/lm_head\.weight that differs from model\.embed_tokens\.weight[\s\S]*"tie_word_embeddings": false/);
  });

  it('grows a tied vocabulary: the new embedding rows are also the new logits rows, old logits unchanged', async () => {
    const dir = tmp();
    await writeTinyHfCausalLm(dir, { tie: true });
    const folder = await loadHfFolder(dir);
    const want = hfCausalLmReference(folder.config as unknown as ReferenceConfig, toFloat64(folder.tensors), IDS);
    const { model } = await loadHfCausalLm(folder, { vocabSize: 52 });
    expect(model.lmHead).toBeUndefined();
    expect(model.embedTokens.weight.shape).toEqual([52, 32]);
    const { hidden, logits } = model.forward(model.embed(tf.tensor2d(IDS, undefined, 'int32')));
    const got = logits.arraySync();
    expect(Math.abs(got[1]![3]![17]! - want[1]![3]![17]!)).toBeLessThan(1e-4);
    // the added row (mean of the old ones) scores the hidden state as the head does
    const h = hidden.arraySync()[1]![3]!;
    const row = model.embedTokens.weight.arraySync() as number[][];
    expect(got[1]![3]![51]!).toBeCloseTo(h.reduce((s, v, i) => s + v * row[51]![i]!, 0), 4);
    model.dispose();
  });

  it('a wrong convention is caught: the reference differs from a model whose heads are permuted', async () => {
    // guards the parity test itself: swapping two kv heads' rows must break the match
    const dir = tmp();
    await writeTinyHfCausalLm(dir);
    const folder = await loadHfFolder(dir);
    const want = hfCausalLmReference(folder.config as unknown as ReferenceConfig, toFloat64(folder.tensors), IDS);
    const k = folder.tensors['model.layers.0.self_attn.k_proj.weight']!;
    folder.tensors['model.layers.0.self_attn.k_proj.weight'] = tf.concat([k.slice([8, 0], [8, -1]), k.slice([0, 0], [8, -1])], 0);
    const { model } = await loadHfCausalLm(folder);
    const got = model.forward(model.embed(tf.tensor2d(IDS, undefined, 'int32'))).logits.arraySync();
    const gap = Math.max(...want.flatMap((row, b) => row.flatMap((l, t) => l.map((v, i) => Math.abs(v - got[b]![t]![i]!)))));
    expect(gap).toBeGreaterThan(1e-2);
    model.dispose();
  });

  it('grows the vocabulary for added tokens, keeping the checkpoint logits of the old ids', async () => {
    const dir = tmp();
    await writeTinyHfCausalLm(dir);
    const folder = await loadHfFolder(dir);
    const want = hfCausalLmReference(folder.config as unknown as ReferenceConfig, toFloat64(folder.tensors), IDS);
    const { model } = await loadHfCausalLm(folder, { vocabSize: 52 });
    const got = model.forward(model.embed(tf.tensor2d(IDS, undefined, 'int32'))).logits.arraySync();
    expect(got[0]![0]).toHaveLength(52);
    expect(Math.abs(got[1]![3]![17]! - want[1]![3]![17]!)).toBeLessThan(1e-4);
    await expect(loadHfCausalLm(folder, { vocabSize: 10 })).rejects.toThrow(/can grow, not shrink/);
    model.dispose();
  });

  it('lists the first mismatches by name and shape when weights do not fit config.json', async () => {
    const dir = tmp();
    await writeTinyHfCausalLm(dir);
    const folder = await loadHfFolder(dir);
    folder.config.intermediate_size = 40;
    folder.tensors['model.layers.0.mlp.extra.weight'] = tf.zeros([2]);
    delete folder.tensors['model.norm.weight'];
    const err = (await loadHfCausalLm(folder).catch((e: Error) => e)) as Error;
    expect(err).toBeInstanceOf(CheckpointError);
    expect(err.message).toMatch(/6 shape mismatch\(es\): model\.layers\.0\.mlp\.down_proj\.weight is \[32, 48\] in the checkpoint, the model expects \[32, 40\]/);
    expect(err.message).toMatch(/1 missing: model\.norm\.weight/);
    expect(err.message).toMatch(/1 unexpected: model\.layers\.0\.mlp\.extra\.weight/);
  });
});

describe('HF MixtralForCausalLM import', () => {
  it('matches a float64 reference written from modeling_mixtral.py (softmax router, top-2 renormalised, w2(silu(w1) * w3)) to 1e-4', async () => {
    const dir = tmp();
    await writeTinyHfCausalLm(dir, { experts: 4, shards: 2, config: { rope_theta: 1e6 } });
    const { gap, scale } = await parityGap(dir);
    expect(scale).toBeGreaterThan(1);
    expect(gap).toBeLessThan(1e-4);
    const { model } = await loadHfCausalLm(dir);
    expect(model.config.ffn).toMatchObject({ type: 'moe', experts: 4, topK: 2 });
    expect(Object.keys(model.stateDict())).toContain('model.layers.1.block_sparse_moe.experts.3.w2.weight');
    model.dispose();
  });

  it('routing matters: the reference with top-1 differs, so the test can fail', async () => {
    const dir = tmp();
    await writeTinyHfCausalLm(dir, { experts: 4 });
    const folder = await loadHfFolder(dir);
    const config = folder.config as unknown as ReferenceConfig;
    const top2 = hfCausalLmReference(config, toFloat64(folder.tensors), IDS);
    const top1 = hfCausalLmReference({ ...config, num_experts_per_tok: 1 }, toFloat64(folder.tensors), IDS);
    const gap = Math.max(...top2.flatMap((row, b) => row.flatMap((l, t) => l.map((v, i) => Math.abs(v - top1[b]![t]![i]!)))));
    expect(gap).toBeGreaterThan(1e-2);
  });
});

describe('HF config mapping', () => {
  const base = { architectures: ['LlamaForCausalLM'], hidden_size: 32, intermediate_size: 48, num_hidden_layers: 2, num_attention_heads: 4, vocab_size: 50 };

  it('maps the fields, defaulting as transformers does (kv heads = heads, eps 1e-6, theta 1e4)', () => {
    const spec = causalSpecFromHf(base);
    expect(spec.llm).toEqual({ type: 'causal', dim: 32, layers: 2, heads: 4, kvHeads: 4, mlpHidden: 48, ropeTheta: 10000, normEps: 1e-6, tieWordEmbeddings: false });
    expect(causalSpecFromHf({ ...base, tie_word_embeddings: true }).llm.tieWordEmbeddings).toBe(true);
    expect(causalLmSchema.parse(spec.llm).dim).toBe(32);
    expect(spec).toMatchObject({ vocabSize: 50, tieWordEmbeddings: false, architecture: 'LlamaForCausalLM' });
    const mixtral = causalSpecFromHf({ ...base, architectures: ['MixtralForCausalLM'], num_key_value_heads: 2 });
    expect(mixtral.llm).toMatchObject({ kvHeads: 2, normEps: 1e-5, ropeTheta: 1e6, ffn: { type: 'moe', experts: 8, topK: 2 } });
    expect(mixtral.slidingWindow).toBeUndefined();
    expect(causalSpecFromHf({ ...base, architectures: ['MistralForCausalLM'], num_key_value_heads: 2 }).slidingWindow).toBe(4096);
  });

  it('names the supported architectures for an unsupported one', () => {
    expect(() => causalSpecFromHf({ ...base, architectures: ['GPT2LMHeadModel'] })).toThrow(
      /architectures \["GPT2LMHeadModel"\] is not supported; supported: LlamaForCausalLM, MistralForCausalLM, MixtralForCausalLM/,
    );
    expect(() => causalSpecFromHf({ model_type: 'gpt2' })).toThrow(/model_type "gpt2" is not supported/);
  });

  it('refuses features the backbone would compute differently, each by field', () => {
    const err = (() => {
      try {
        causalSpecFromHf({ ...base, rope_scaling: { rope_type: 'llama3', factor: 8 }, attention_bias: true, hidden_act: 'gelu', head_dim: 16 });
      } catch (e) {
        return e as ConfigError;
      }
    })()!;
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.issues.map((i) => i.path).sort()).toEqual(['attention_bias', 'head_dim', 'hidden_act', 'rope_scaling']);
    expect(err.message).toMatch(/rope_scaling: is \{"rope_type":"llama3","factor":8\} \(RoPE scaling is not implemented\)/);
    expect(causalSpecFromHf({ ...base, rope_scaling: null, attention_bias: false }).llm.dim).toBe(32);
  });

  it('merges a run config llm with the checkpoint: agreeing fields pass, disagreeing ones are config errors', () => {
    const spec = causalSpecFromHf(base);
    expect(mergeHfLlmConfig({ type: 'causal', from: 'hf:x', dim: 32 }, spec)).toEqual({ ...spec.llm });
    expect(() => mergeHfLlmConfig({ type: 'causal', from: 'hf:x', dim: 64, heads: 8 }, spec)).toThrow(
      /llm\.dim: is 64 but the HF checkpoint has 32[\s\S]*llm\.heads: is 8 but the HF checkpoint has 4/,
    );
    expect(() => mergeHfLlmConfig({ type: 'causal', from: 'hf:x', ffn: { type: 'moe' } }, spec)).toThrow(/llm\.ffn: LlamaForCausalLM has a dense feed-forward/);
    expect(mergeHfLlmConfig({ type: 'causal', from: 'hf:x', ffn: { type: 'dense' } }, spec).ffn).toEqual({ type: 'dense' });
    const mixtral = causalSpecFromHf({ ...base, architectures: ['MixtralForCausalLM'], num_key_value_heads: 2, num_local_experts: 4 });
    expect(mergeHfLlmConfig({ type: 'causal', from: 'hf:x', ffn: { type: 'moe', auxLossCoef: 0.02 } }, mixtral).ffn).toEqual({ type: 'moe', experts: 4, topK: 2, auxLossCoef: 0.02 });
    expect(() => mergeHfLlmConfig({ type: 'causal', from: 'hf:x', ffn: { type: 'moe', experts: 8 } }, mixtral)).toThrow(/llm\.ffn\.experts: is 8 but the HF checkpoint has 4/);
  });
});
