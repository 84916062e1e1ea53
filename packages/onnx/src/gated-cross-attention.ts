import type { GatedCrossAttentionBlock } from '@mllm/connector-fusion';
import type { GraphBuilder } from './graph-builder';
import { gelu, layerNorm, linear, values } from './layers';

// Shapes: B batch, T text tokens, S media keys per row, H heads, dh head width, D LLM width.

/** The decoder inputs of Flamingo's gated cross-attention, laid out by the runtime (media-layout.ts). */
export interface MediaInputs {
  /** [B, S, D] each row's images' projected tokens. */
  media: string;
  /** [B, 1, T, S] additive: 0 on the keys of the image each query may see, -1e9 elsewhere. */
  mask: string;
  /** [B, T, 1] 1 where a query has an image before it. */
  present: string;
}

/**
 * open_flamingo's GatedCrossAttentionBlock as nodes, mirroring @mllm/connector-fusion:
 * h += tanh(attn_gate) * (xattn(norm(h), media) * has_media); h += tanh(ff_gate) * ff(h).
 */
export function gatedCrossAttentionBlock(g: GraphBuilder, hidden: string, block: GatedCrossAttentionBlock, name: string, inputs: MediaInputs): string {
  const attn = block.attn;
  const heads = attn.config.numHeads;
  const dh = attn.headDim;
  const split = (y: string) => g.op('Transpose', [g.op('Reshape', [y, g.constInt64([0, 0, heads, dh])])], { perm: { ints: [0, 2, 1, 3] } }); // [B, H, n, dh]
  const normed = layerNorm(g, hidden, attn.norm, `${name}.attn.norm`);
  const q = split(linear(g, normed, attn.q, `${name}.attn.q_proj`)); // [B, H, T, dh]
  const k = split(linear(g, inputs.media, attn.k, `${name}.attn.k_proj`)); // [B, H, S, dh]
  const v = split(linear(g, inputs.media, attn.v, `${name}.attn.v_proj`));
  const scores = g.op('Mul', [g.op('MatMul', [q, g.op('Transpose', [k], { perm: { ints: [0, 1, 3, 2] } })]), g.constFloat([1 / Math.sqrt(dh)], [])]); // [B, H, T, S]
  const probs = g.op('Softmax', [g.op('Add', [scores, inputs.mask])], { axis: { int: -1 } });
  const ctx = g.op('Reshape', [g.op('Transpose', [g.op('MatMul', [probs, v])], { perm: { ints: [0, 2, 1, 3] } }), g.constInt64([0, 0, heads * dh])]); // [B, T, D]
  const read = g.op('Mul', [linear(g, ctx, attn.o, `${name}.attn.o_proj`), inputs.present]); // [B, T, D]
  const gate = (param: { dataSync(): unknown }, gateName: string) => g.op('Tanh', [g.floatTensor(`${name}.${gateName}`, values(param as never), [1])]);
  let h = g.op('Add', [hidden, g.op('Mul', [read, gate(block.attnGate, 'attn_gate')])]);
  const ff = block.ff;
  const y = linear(g, gelu(g, linear(g, layerNorm(g, h, ff.norm, `${name}.ff.0`), ff.fc1, `${name}.ff.1`)), ff.fc2, `${name}.ff.3`);
  h = g.op('Add', [h, g.op('Mul', [y, gate(block.ffGate, 'ff_gate')])]);
  return h;
}
