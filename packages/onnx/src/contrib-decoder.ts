import type { Attention, RMSNorm, SwiGLU } from '@mllm/core';
import type { CausalLM } from '@mllm/llm';
import type { GraphBuilder } from './graph-builder';
import { linear, packedLinear, rmsNorm, swiGlu, values } from './layers';

/**
 * A Llama decoder's layers on onnxruntime's fused contrib ops, for decoding closer to the speed
 * of the weight reads. A decode step of the standard-op graph runs ~43 nodes per layer (head
 * reshapes, rotary Slice/Neg/Concat, the cache Concat, masking, Softmax...), each a dispatch and,
 * at batch 1, a thread synchronisation; this graph decodes 5-8% faster per token
 * (docs/experiments/onnx-deploy.md). Here a
 * layer is 14 nodes (13 once onnxruntime fuses SiLU): q/k/v as one MatMul, split; RotaryEmbedding
 * on q and on k; GroupQueryAttention (the cache append, causal softmax and the grouped heads in one
 * kernel); the o projection; SkipSimplifiedLayerNormalization (residual Add + RMSNorm) twice; the
 * SwiGLU feed-forward (gate/up MatMul, Split, Sigmoid and Mul, Mul, down MatMul).
 *
 * GroupQueryAttention reads a row's valid keys as a prefix of its cache: `seqlens_k[b] + 1` keys
 * (the row's attention_mask sum), the new ones right after the row's cached ones. So the caller
 * (the causal-LM exporter) feeds each row's tokens of a call before its padding and moves the
 * logits back, and the graph takes left-padded batches as the standard-op graph does. Its kernels
 * take head widths that are multiples of 16.
 * Shapes: B batch, T new tokens, D width, dh head width.
 */

export interface ContribAttentionInputs {
  /** int32 [B]: each row's keys after this call, minus one (GroupQueryAttention's seqlens_k). */
  seqlensK: string;
  /** int32 scalar: the attention mask's width, P + T. */
  totalLength: string;
  /** int64 [B, T]: each token's position (RotaryEmbedding's position_ids). */
  positions: string;
  /** Rotary tables [maxPositions, dh / 2] (the first half of each rotate-half row). */
  cosCache: string;
  sinCache: string;
}

export interface ContribLayerCache {
  past: { key: string; value: string };
  /** Output names of the cache with this call's keys and values appended (transformers.js feeds them back). */
  present: { key: string; value: string };
  /** Output names of this call's keys and values, [B, T, Hkv dh]: the nodes write them under these names, no Identity copies them. */
  step: { key: string; value: string };
}

/**
 * input + skip -> [RMSNorm(input + skip), input + skip] in one kernel; the sum is the residual
 * stream the next block adds to.
 */
export function skipRmsNorm(g: GraphBuilder, input: string, skip: string, norm: RMSNorm, name: string): { normed: string; sum: string } {
  const gamma = g.floatTensor(`${name}.weight`, values(norm.weight), [norm.dim]);
  const [normed, , , sum] = g.contribOp('SkipSimplifiedLayerNormalization', [input, skip, gamma], [undefined, '', '', undefined], { epsilon: { float: norm.eps } });
  return { normed: normed!, sum: sum! };
}

/**
 * Self-attention of one layer: x [B, T, D] -> output [B, T, D], and this call's rotated keys and
 * values [B, T, Hkv dh] (what the runtime writes into its cache at each row's length). q, k and v
 * come out of one MatMul; RotaryEmbedding rotates q and k at the fed position_ids; GroupQueryAttention
 * appends k and v to the cache into its `present` (not fetched) and attends over each row's prefix.
 */
export function groupQueryAttention(
  g: GraphBuilder,
  x: string,
  attn: Attention,
  name: string,
  shared: ContribAttentionInputs,
  cache: ContribLayerCache,
): { out: string; step: { key: string; value: string } } {
  const outName = attn.config.outputName ?? 'o_proj';
  const h = attn.config.numHeads;
  const hkv = attn.numKvHeads;
  const dh = attn.headDim;
  const qkv = packedLinear(g, x, [attn.q, attn.k, attn.v], `${name}.qkv_proj`); // [B, T, (H + 2 Hkv) dh]
  const [q, k, v] = g.opMulti('Split', [qkv, g.constInt64([h * dh, hkv * dh, hkv * dh])], 3, { axis: { int: -1 } }, [undefined, undefined, cache.step.value]) as [string, string, string];
  const rotate = (value: string, heads: number, outputName?: string) =>
    g.contribOp('RotaryEmbedding', [value, shared.positions, shared.cosCache, shared.sinCache], [outputName], { interleaved: { int: 0 }, num_heads: { int: heads } })[0]!;
  const key = rotate(k, hkv, cache.step.key);
  const [context] = g.contribOp(
    'GroupQueryAttention',
    [rotate(q, h), key, v, cache.past.key, cache.past.value, shared.seqlensK, shared.totalLength],
    [undefined, cache.present.key, cache.present.value],
    { num_heads: { int: h }, kv_num_heads: { int: hkv }, scale: { float: 1 / Math.sqrt(dh) } },
  );
  return { out: linear(g, context!, attn.o, `${name}.${outName}`), step: { key, value: v } };
}

/**
 * Every block of `llm` on the contrib ops: embeds [B, T, D] -> the final norm's output [B, T, D]
 * and each layer's rotated keys and values of this call, [B, T, Hkv dh].
 */
export function contribDecoderLayers(
  g: GraphBuilder,
  llm: CausalLM,
  embeds: string,
  shared: ContribAttentionInputs,
  caches: ContribLayerCache[],
): { hidden: string; steps: { key: string; value: string }[] } {
  const blocks = llm.blocks;
  const layerName = (i: number) => `language_model.model.layers.${i}`;
  // the first norm has no residual to add: the standard RMSNorm pattern, which onnxruntime fuses
  let normed = rmsNorm(g, embeds, blocks[0]!.norm1 as RMSNorm, `${layerName(0)}.input_layernorm`);
  let residual = embeds;
  const steps = blocks.map((block, i) => {
    const { out, step } = groupQueryAttention(g, normed, block.attn, `${layerName(i)}.self_attn`, shared, caches[i]!);
    const post = skipRmsNorm(g, residual, out, block.norm2 as RMSNorm, `${layerName(i)}.post_attention_layernorm`);
    const ff = swiGlu(g, post.normed, block.mlp as unknown as SwiGLU, `${layerName(i)}.mlp`);
    // the next block's input norm (or the final norm) takes this block's output as its residual sum
    const [nextNorm, nextName] = i + 1 < blocks.length ? [blocks[i + 1]!.norm1, `${layerName(i + 1)}.input_layernorm`] : [llm.norm, 'language_model.model.norm'];
    const next = skipRmsNorm(g, post.sum, ff, nextNorm as RMSNorm, nextName);
    normed = next.normed;
    residual = next.sum;
    return step;
  });
  return { hidden: normed, steps };
}
