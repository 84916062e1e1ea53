import type { Linear } from '@mllm/core';
import type { PerceiverResampler, QFormer } from '@mllm/connector-query';
import type { GraphBuilder } from './graph-builder';
import { gelu, layerNorm, linear, values } from './layers';

/**
 * Query connectors as ONNX nodes, mirroring @mllm/connector-query's forward:
 * features [B, N, D_enc] -> [B, M, D_llm] with M learned queries / latents.
 * Shapes: B batch, T queries, S keys, H heads, dh head width.
 */

interface Projections {
  q: Linear;
  k: Linear;
  v: Linear;
  o: Linear;
}

/**
 * Unmasked multi-head attention of x [B, T, D] over kv [B, S, Dkv] -> [B, T, D] after the
 * output projection. `scaleQueries`: scale q before the product (the Q-Former's order)
 * instead of the scores (core Attention's order).
 */
function crossAttention(g: GraphBuilder, x: string, kv: string, p: Projections, names: Record<keyof Projections, string>, heads: number, scaleQueries: boolean): string {
  const dh = p.q.outFeatures / heads;
  const split = (y: string) => g.op('Transpose', [g.op('Reshape', [y, g.constInt64([0, 0, heads, dh])])], { perm: { ints: [0, 2, 1, 3] } }); // [B, H, n, dh]
  const scale = g.constFloat([1 / Math.sqrt(dh)], []);
  let q = linear(g, x, p.q, names.q);
  if (scaleQueries) q = g.op('Mul', [q, scale]);
  const k = split(linear(g, kv, p.k, names.k)); // [B, H, S, dh]
  const v = split(linear(g, kv, p.v, names.v));
  let scores = g.op('MatMul', [split(q), g.op('Transpose', [k], { perm: { ints: [0, 1, 3, 2] } })]); // [B, H, T, S]
  if (!scaleQueries) scores = g.op('Mul', [scores, scale]);
  const ctx = g.op('MatMul', [g.op('Softmax', [scores], { axis: { int: -1 } }), v]); // [B, H, T, dh]
  const merged = g.op('Reshape', [g.op('Transpose', [ctx], { perm: { ints: [0, 2, 1, 3] } }), g.constInt64([0, 0, heads * dh])]);
  return linear(g, merged, p.o, names.o);
}

/** A learned [T, D] (or [1, T, D]) table repeated for each image: [B, T, D]. */
function perImage(g: GraphBuilder, table: string, rows: number, dim: number, like: string): string {
  const batch = g.op('Slice', [g.op('Shape', [like]), g.constInt64([0]), g.constInt64([1])]);
  const shape = g.op('Concat', [batch, g.constInt64([rows, dim])], { axis: { int: 0 } });
  return g.op('Expand', [g.op('Reshape', [table, g.constInt64([1, rows, dim])]), shape]);
}

export function qformerNodes(g: GraphBuilder, features: string, connector: QFormer, name: string): string {
  const { dim } = connector;
  const queries = connector.config.numQueries;
  const heads = connector.config.heads;
  const context = layerNorm(g, features, connector.lnVision, `${name}.ln_vision`); // [B, N, D_enc]
  const tokens = layerNorm(g, g.floatTensor(`${name}.query_tokens`, values(connector.queryTokens), [1, queries, dim]), connector.inputNorm, `${name}.qformer.layernorm`);
  let h = perImage(g, tokens, queries, dim, features); // [B, Q, D]
  connector.layers.forEach((layer, i) => {
    const base = `${name}.qformer.encoder.layer.${i}`;
    for (const [kind, sub] of [['attention', layer.attention], ['crossattention', layer.crossattention]] as const) {
      const normed = layerNorm(g, h, sub.norm, `${base}.${kind}.input_layernorm`);
      const a = sub.attention;
      const mixed = crossAttention(
        g,
        normed,
        kind === 'attention' ? normed : context,
        { q: a.query, k: a.key, v: a.value, o: sub.dense },
        { q: `${base}.${kind}.attention.query`, k: `${base}.${kind}.attention.key`, v: `${base}.${kind}.attention.value`, o: `${base}.${kind}.output.dense` },
        heads,
        true,
      );
      h = g.op('Add', [h, mixed]);
    }
    const ff = linear(g, gelu(g, linear(g, layerNorm(g, h, layer.ffnNorm, `${base}.intermediate_query.input_layernorm`), layer.intermediate, `${base}.intermediate_query.dense`)), layer.output, `${base}.output_query.dense`);
    h = g.op('Add', [h, ff]);
  });
  return linear(g, layerNorm(g, h, connector.finalNorm, `${name}.qformer.final_layernorm`), connector.languageProjection, `${name}.language_projection`);
}

export function perceiverNodes(g: GraphBuilder, features: string, connector: PerceiverResampler, name: string): string {
  const { dim } = connector;
  const latentsCount = connector.config.numLatents;
  const media = connector.mediaProj ? linear(g, features, connector.mediaProj, `${name}.media_proj`) : features; // [B, N, D]
  let latents = perImage(g, g.floatTensor(`${name}.latents`, values(connector.latents), [latentsCount, dim]), latentsCount, dim, features); // [B, L, D]
  connector.layers.forEach((layer, i) => {
    const base = `${name}.layers.${i}`;
    const att = layer.attention;
    const m = layerNorm(g, media, att.normMedia, `${base}.0.norm_media`);
    const l = layerNorm(g, latents, att.normLatents, `${base}.0.norm_latents`);
    const context = g.op('Concat', [m, l], { axis: { int: 1 } }); // [B, N+L, D]
    const a = att.attn;
    const update = crossAttention(
      g,
      l,
      context,
      { q: a.q, k: a.k, v: a.v, o: a.o },
      { q: `${base}.0.attn.q_proj`, k: `${base}.0.attn.k_proj`, v: `${base}.0.attn.v_proj`, o: `${base}.0.attn.o_proj` },
      a.config.numHeads,
      false,
    );
    latents = g.op('Add', [latents, update]);
    const ff = layer.feedForward;
    const y = linear(g, gelu(g, linear(g, layerNorm(g, latents, ff.norm, `${base}.1.0`), ff.fc1, `${base}.1.1`)), ff.fc2, `${base}.1.3`);
    latents = g.op('Add', [latents, y]);
  });
  return linear(g, layerNorm(g, latents, connector.norm, `${name}.norm`), connector.languageProjection, `${name}.language_projection`);
}
