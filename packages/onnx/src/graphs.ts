import { featureDepth, type VisionTransformer } from '@mllm/encoders';
import type { CausalLM } from '@mllm/llm';
import { LinearProjector, MlpProjector } from '@mllm/connector-projection';
import { PerceiverResampler, QFormer } from '@mllm/connector-query';
import { AdapterPrompts, GatedCrossAttention, VisualExpert } from '@mllm/connector-fusion';
import { gatedCrossAttentionBlock } from './gated-cross-attention';
import { perceiverNodes, qformerNodes } from './query-connectors';
import type { ExportableConnector } from './supported';
import { GraphBuilder, type WeightFormat } from './graph-builder';
import { gelu, layerNorm, linear, norm, transformerBlock, values, type GraphRouting } from './layers';

/** Large negative instead of -Infinity, as @mllm/core's MASKED, so masked rows stay finite. */
const MASKED = -1e9;

/**
 * pixel_values [B, C, H, W] (already normalized to [-1, 1], as HF's CLIP processor with mean =
 * std = 0.5 hands them) -> image_features [B, M, D_llm]: the ViT to its feature layer, then the
 * token connector. Mirrors VisionTransformer.encode + connector.forward.
 */
export function visionEncoderGraph(encoder: VisionTransformer, connector: ExportableConnector | FusionExport, weights: WeightFormat): Uint8Array {
  const g = new GraphBuilder('vision_encoder', weights);
  const { dim, channels, patchSize: p, imageSize, includeCls } = encoder.config;
  const grid = imageSize / p;
  const pixels = g.input('pixel_values', 'float32', ['batch_size', channels, imageSize, imageSize]);
  const emb = encoder.embeddings;
  // stride-P convolution = the per-patch matMul the tfjs encoder does
  const conv = g.op('Conv', [pixels, g.floatTensor('vision_tower.embeddings.patch_embedding.weight', values(emb.patchWeight), [dim, channels, p, p])], {
    kernel_shape: { ints: [p, p] },
    strides: { ints: [p, p] },
  }); // [B, D, g, g]
  const patches = g.op('Transpose', [g.op('Reshape', [conv, g.constInt64([0, dim, grid * grid])])], { perm: { ints: [0, 2, 1] } }); // [B, N, D]
  const batch = g.op('Slice', [g.op('Shape', [patches]), g.constInt64([0]), g.constInt64([1])]); // [1]
  const clsShape = g.op('Concat', [batch, g.constInt64([1, dim])], { axis: { int: 0 } });
  const cls = g.op('Expand', [g.floatTensor('vision_tower.embeddings.class_embedding', values(emb.classEmbedding!), [1, 1, dim]), clsShape]); // [B, 1, D]
  const tokens = g.op('Concat', [cls, patches], { axis: { int: 1 } }); // [B, N+1, D]
  const positioned = g.op('Add', [tokens, g.floatTensor('vision_tower.embeddings.position_embedding.weight', values(emb.positionEmbedding), [grid * grid + 1, dim])]);
  let h = layerNorm(g, positioned, encoder.preNorm!, 'vision_tower.pre_layrnorm');
  const depth = vitFeatureDepth(encoder);
  encoder.blocks.slice(0, depth).forEach((block, i) => {
    h = transformerBlock(g, h, block, `vision_tower.encoder.layers.${i}`).out;
  });
  if (!includeCls) h = g.op('Slice', [h, g.constInt64([1]), g.constInt64([grid * grid + 1]), g.constInt64([1])]); // [B, N, D]
  if (connector instanceof GatedCrossAttention) {
    // Flamingo's media: every encoder token projected to the LLM width, [B, N, D]
    g.output(linear(g, h, connector.mediaProj, 'multi_modal_projector.media_proj'), 'image_features', 'float32', ['batch_size', encoder.numTokens, 'hidden_size']);
    return g.serialize();
  }
  if (connector instanceof AdapterPrompts) {
    // LLaMA-Adapter's global visual vector: the token mean projected to the LLM width, [B, 1, D]
    const mean = g.op('ReduceMean', [h], { axes: { ints: [1] }, keepdims: { int: 1 } });
    g.output(linear(g, mean, connector.visualProj, 'multi_modal_projector.visual_proj'), 'image_features', 'float32', ['batch_size', 1, 'hidden_size']);
    return g.serialize();
  }
  // the visual expert's tokens come from its own token-level projection, spliced as LLaVA's
  const tokenConnector = connector instanceof VisualExpert ? (connector.projection as ExportableConnector) : connector;
  const features = connectorNodes(g, h, tokenConnector, connector instanceof VisualExpert ? 'multi_modal_projector.projection' : 'multi_modal_projector');
  g.output(features, 'image_features', 'float32', ['batch_size', connector.outputTokens(encoder.numTokens), 'hidden_size']);
  return g.serialize();
}

/** Blocks run before the feature layer: the encoder's own rule, so export and tfjs cannot disagree. */
export function vitFeatureDepth(encoder: VisionTransformer): number {
  return featureDepth(encoder.config.featureLayer, encoder.blocks.length);
}

function connectorNodes(g: GraphBuilder, x: string, connector: ExportableConnector, name: string): string {
  if (connector instanceof QFormer) return qformerNodes(g, x, connector, name);
  if (connector instanceof PerceiverResampler) return perceiverNodes(g, x, connector, name);
  if (connector instanceof LinearProjector) return linear(g, x, connector.proj, `${name}.linear`);
  if (!(connector instanceof MlpProjector)) throw new Error('unreachable: checkExportable admits only these connectors');
  let h = connector.inputNorm ? layerNorm(g, x, connector.inputNorm, `${name}.norm`) : x;
  connector.layers.forEach((layer, i) => {
    h = linear(g, h, layer, `${name}.linear_${i + 1}`);
    if (i < connector.layers.length - 1) h = gelu(g, h);
  });
  return h;
}

/** input_ids [B, T] int64 -> inputs_embeds [B, T, D]. */
export function embedTokensGraph(llm: CausalLM, weights: WeightFormat): Uint8Array {
  const g = new GraphBuilder('embed_tokens', weights);
  const ids = g.input('input_ids', 'int64', ['batch_size', 'sequence_length']);
  const table = g.weight('language_model.model.embed_tokens.weight', values(llm.embedTokens.weight), [llm.vocabSize, llm.dim], 0);
  g.output(g.op('Gather', [table, ids], { axis: { int: 0 } }), 'inputs_embeds', 'float32', ['batch_size', 'sequence_length', llm.dim]);
  return g.serialize();
}

/** cos/sin rows [maxPositions, dh] of positions 0..maxPositions-1, from the LM's own RotaryEmbedding so they round as the tfjs tables do. */
export function ropeTables(llm: CausalLM, maxPositions: number): { cos: Float32Array; sin: Float32Array } {
  const tables = llm.rotary.tables([Array.from({ length: maxPositions }, (_, p) => p)]);
  const out = { cos: values(tables.cos), sin: values(tables.sin) };
  tables.cos.dispose();
  tables.sin.dispose();
  return out;
}

/**
 * The merged decoder (one graph for prefill and decode, past length 0 allowed):
 * inputs_embeds [B, T, D], attention_mask [B, P+T], position_ids [B, T],
 * past_key_values.N.key/value [B, Hkv, P, dh] -> logits [B, T, V], present.N.key/value [B, Hkv, P+T, dh].
 * Mirrors CausalLM.forward with a KV cache and a causal pattern.
 */
/** Fusion connectors the export writes into the decoder. */
export type FusionExport = AdapterPrompts | VisualExpert | GatedCrossAttention;

export function decoderGraph(llm: CausalLM, weights: WeightFormat, maxPositions: number, fusion?: FusionExport): Uint8Array {
  const flamingo = fusion instanceof GatedCrossAttention ? fusion : undefined;
  const adapter = fusion instanceof AdapterPrompts ? fusion : undefined;
  const expert = fusion instanceof VisualExpert ? fusion : undefined;
  const g = new GraphBuilder('decoder_model_merged', weights);
  const { dim } = llm.config;
  const kvHeads = llm.blocks[0]!.attn.numKvHeads;
  const headDim = llm.blocks[0]!.attn.headDim;
  const embeds = g.input('inputs_embeds', 'float32', ['batch_size', 'sequence_length', dim]);
  const keyMask = g.input('attention_mask', 'int64', ['batch_size', 'total_sequence_length']);
  const positions = g.input('position_ids', 'int64', ['batch_size', 'sequence_length']);
  const past = llm.blocks.map((_, i) => ({
    key: g.input(`past_key_values.${i}.key`, 'float32', ['batch_size', kvHeads, 'past_sequence_length', headDim]),
    value: g.input(`past_key_values.${i}.value`, 'float32', ['batch_size', kvHeads, 'past_sequence_length', headDim]),
  }));

  // additive mask [B, 1, T, S]: key s visible to query t when s <= P + t and attention_mask[b, s] = 1
  const scalar = (i: number) => g.constInt64([i], []);
  const s = g.op('Gather', [g.op('Shape', [keyMask]), scalar(1)], { axis: { int: 0 } });
  const t = g.op('Gather', [g.op('Shape', [embeds]), scalar(1)], { axis: { int: 0 } });
  const keyIndex = g.op('Unsqueeze', [g.op('Range', [scalar(0), s, scalar(1)]), g.constInt64([0])]); // [1, S]
  const queryIndex = g.op('Unsqueeze', [g.op('Range', [g.op('Sub', [s, t]), s, scalar(1)]), g.constInt64([1])]); // [T, 1]
  const causal = g.op('LessOrEqual', [keyIndex, queryIndex]); // [T, S]
  const real = g.op('Unsqueeze', [g.op('Cast', [keyMask], { to: { int: 9 } }), g.constInt64([1, 2])]); // bool [B, 1, 1, S]
  const mask = g.op('Where', [g.op('And', [causal, real]), g.constFloat([0], []), g.constFloat([MASKED], [])]); // [B, 1, T, S]

  const tables = ropeTables(llm, maxPositions);
  const gatherRows = (table: string) => g.op('Unsqueeze', [g.op('Gather', [table, positions], { axis: { int: 0 } }), g.constInt64([1])]); // [B, 1, T, dh]
  const rope = {
    cos: gatherRows(g.floatTensor('rope.cos', tables.cos, [maxPositions, headDim])),
    sin: gatherRows(g.floatTensor('rope.sin', tables.sin, [maxPositions, headDim])),
  };

  // LLaMA-Adapter: each row's visual vector [B, 1, D] (zeros for a row without an image) joins the adapted layers' prompts
  const visual = adapter && g.input('image_prefix_features', 'float32', ['batch_size', 1, dim]);
  const prefixOf = (i: number) => {
    const a = adapter?.layers.get(i);
    if (!a || !visual) return undefined;
    const base = `multi_modal_projector.adapter_layers.${i}`;
    const [p, d] = a.prompt.shape as [number, number];
    return {
      states: g.op('Add', [g.floatTensor(`${base}.adaption_prompt`, values(a.prompt), [1, p, d]), visual]), // [B, P, D]
      gate: g.op('Tanh', [g.floatTensor(`${base}.adaption_gate`, values(a.gate), [a.gate.shape[0]!])]), // [H]
    };
  };

  // CogVLM visual expert: 1 at this call's image positions (all 0 at decode steps: the LLM as it is)
  let routingOf: (i: number) => GraphRouting | undefined = () => undefined;
  if (expert) {
    const imageMask = g.op('Unsqueeze', [g.input('image_token_mask', 'float32', ['batch_size', 'sequence_length']), g.constInt64([2])]); // [B, T, 1]
    const textMask = g.op('Sub', [g.constFloat([1], []), imageMask]);
    routingOf = (i) => {
      const e = expert.experts[i]!;
      return { imageMask, textMask, expert: { q: e.q, k: e.k, v: e.v, mlp: e.mlp }, name: `multi_modal_projector.experts.${i}` };
    };
  }

  // Flamingo: the runtime lays out each row's media keys and this call's masks (media-layout.ts)
  const media = flamingo && {
    media: g.input('media', 'float32', ['batch_size', 'media_length', dim]),
    mask: g.input('media_mask', 'float32', ['batch_size', 1, 'sequence_length', 'media_length']),
    present: g.input('media_present', 'float32', ['batch_size', 'sequence_length', 1]),
  };

  let h = embeds;
  llm.blocks.forEach((block, i) => {
    const xattn = flamingo?.blocks.get(i);
    if (xattn && media) h = gatedCrossAttentionBlock(g, h, xattn, `multi_modal_projector.gated_cross_attn_layers.${i}`, media); // [B, T, D]
    const { out, present } = transformerBlock(g, h, block, `language_model.model.layers.${i}`, { mask, rope, past: past[i], prefix: prefixOf(i), routing: routingOf(i) });
    g.output(present.key, `present.${i}.key`, 'float32', ['batch_size', kvHeads, 'total_sequence_length', headDim]);
    g.output(present.value, `present.${i}.value`, 'float32', ['batch_size', kvHeads, 'total_sequence_length', headDim]);
    h = out;
  });
  const hidden = norm(g, h, llm.norm, 'language_model.model.norm');
  g.output(linear(g, hidden, llm.lmHead, 'language_model.lm_head'), 'logits', 'float32', ['batch_size', 'sequence_length', llm.vocabSize]);
  return g.serialize();
}
