import { RMSNorm, SwiGLU } from '@mllm/core';
import type { CausalLM } from '@mllm/llm';
import type { LlmExporter } from '../exporter-types';
import type { GraphBuilder } from '../graph-builder';
import { UnsupportedExportError } from '../unsupported-error';
import { NEW_KEY_VALUES } from '../graph-contract';
import { linear, norm, transformerBlock, values } from '../layers';
import { contribDecoderLayers } from '../contrib-decoder';

/** Large negative instead of -Infinity, as @mllm/core's MASKED, so masked rows stay finite. */
const MASKED = -1e9;

/** cos/sin rows [maxPositions, dh] of positions 0..maxPositions-1, from the LM's own RotaryEmbedding so they round as the tfjs tables do. */
export function ropeTables(llm: CausalLM, maxPositions: number): { cos: Float32Array; sin: Float32Array } {
  const tables = llm.rotary.tables([Array.from({ length: maxPositions }, (_, p) => p)]);
  const out = { cos: values(tables.cos), sin: values(tables.sin) };
  tables.cos.dispose();
  tables.sin.dispose();
  return out;
}

/**
 * hidden [B, T, D] -> logits [B, T, V]. Tied, the head is a MatMul by the embedding table
 * transposed: the decoder graph holds the table under its embed_tokens name (per-row int8 scales
 * as in the embedding graph) and no lm_head initializer, as the LM holds one matrix.
 */
function vocabLogits(g: GraphBuilder, hidden: string, llm: CausalLM, outputName?: string): string {
  if (llm.lmHead) return linear(g, hidden, llm.lmHead, 'language_model.lm_head', outputName);
  const table = g.weight('language_model.model.embed_tokens.weight', values(llm.embedTokens.weight), [llm.vocabSize, llm.dim], 0); // [V, D]
  return g.op('MatMul', [hidden, g.op('Transpose', [table], { perm: { ints: [1, 0] } })], {}, outputName);
}

/**
 * Moves each row's tokens of this call before its padding, and back. The call's T columns of
 * attention_mask [B, P + T] hold each row's padding first (a left-padded prompt; 0 in a decode
 * step), so row b's token t is at (t + pad[b]) mod T: `gather` reads x [B, T, ...] in that order
 * (real tokens first, padding after), `restore` puts a result back ((t - pad[b]) mod T).
 */
function rowAlignment(g: GraphBuilder, keyMask: string, embeds: string): { gather(x: string): string; restore(x: string, outputName: string): string } {
  const t = g.op('Slice', [g.op('Shape', [embeds]), g.constInt64([1]), g.constInt64([2])]); // [1]
  const callMask = g.op('Slice', [keyMask, g.op('Neg', [t]), g.constInt64([Number.MAX_SAFE_INTEGER]), g.constInt64([1])]); // [B, T]
  const pad = g.op('Sub', [t, g.op('ReduceSum', [callMask, g.constInt64([1])], { keepdims: { int: 1 } })]); // [B, 1]
  const column = g.op('Unsqueeze', [g.op('Range', [g.constInt64([0], []), g.op('Squeeze', [t, g.constInt64([0])]), g.constInt64([1], [])]), g.constInt64([0])]); // [1, T]
  const index = (shift: string) => g.op('Unsqueeze', [g.op('Mod', [g.op('Add', [g.op('Add', [column, shift]), t]), t]), g.constInt64([2])]); // [B, T, 1]
  const forward = index(pad);
  const back = index(g.op('Neg', [pad]));
  return {
    gather: (x) => g.op('GatherND', [x, forward], { batch_dims: { int: 1 } }),
    restore: (x, outputName) => g.op('GatherND', [x, back], { batch_dims: { int: 1 } }, outputName),
  };
}

/**
 * LLM type `causal`: a Llama-style decoder (RMSNorm, SwiGLU, RoPE, GQA) with a KV cache,
 * mirroring CausalLM.forward with a causal pattern. An MoE feed-forward is refused by `check`.
 * Shapes: B batch, T new tokens, P cached, S = P + T keys, D width, V vocab, dh head width.
 */
export const causalLmExporter: LlmExporter<CausalLM> = {
  check(llm, ctx) {
    llm.blocks.forEach((block, i) => {
      if (!(block.mlp instanceof SwiGLU))
        throw new UnsupportedExportError(`${ctx.path}.layers[${i}].mlp ${block.mlp.constructor.name}`, 'Only the dense SwiGLU feed-forward is exported (no mixture of experts yet).');
      if (!(block.norm1 instanceof RMSNorm)) throw new UnsupportedExportError(`${ctx.path}.layers[${i}] ${block.norm1.constructor.name}`, 'Llama-style blocks (RMSNorm) only.');
    });
  },

  shape: (llm) => ({ layers: llm.numLayers, kvHeads: llm.blocks[0]!.attn.numKvHeads, headDim: llm.blocks[0]!.attn.headDim, dim: llm.dim, vocabSize: llm.vocabSize }),

  embedTokens(g, llm) {
    const ids = g.input('input_ids', 'int64', ['batch_size', 'sequence_length']);
    const table = g.weight('language_model.model.embed_tokens.weight', values(llm.embedTokens.weight), [llm.vocabSize, llm.dim], 0);
    g.output(g.op('Gather', [table, ids], { axis: { int: 0 } }), 'inputs_embeds', 'float32', ['batch_size', 'sequence_length', llm.dim]);
  },

  decoder(g, llm, ctx) {
    const { dim } = llm.config;
    const { maxPositions } = ctx;
    const kvHeads = llm.blocks[0]!.attn.numKvHeads;
    const headDim = llm.blocks[0]!.attn.headDim;
    const embeds = g.input('inputs_embeds', 'float32', ['batch_size', 'sequence_length', dim]);
    const keyMask = g.input('attention_mask', 'int64', ['batch_size', 'total_sequence_length']);
    const positions = g.input('position_ids', 'int64', ['batch_size', 'sequence_length']);
    const past = llm.blocks.map((_, i) => ({
      key: g.input(`past_key_values.${i}.key`, 'float32', ['batch_size', kvHeads, 'past_sequence_length', headDim]),
      value: g.input(`past_key_values.${i}.value`, 'float32', ['batch_size', kvHeads, 'past_sequence_length', headDim]),
      present: { key: `present.${i}.key`, value: `present.${i}.value` },
      step: { key: `${NEW_KEY_VALUES}.${i}.key`, value: `${NEW_KEY_VALUES}.${i}.value` },
    }));

    // a fusion connector's inputs come after the LLM's own; its nodes enter each layer as its tfjs hooks do
    const fusion = ctx.fusion();
    const tables = ropeTables(llm, maxPositions);
    const scalar = (i: number) => g.constInt64([i], []);
    let hidden: string;
    let steps: { key: string; value: string }[] = [];
    let restore: ((x: string, outputName: string) => string) | undefined;
    // onnxruntime's GroupQueryAttention refuses some head widths (4: "must be a multiple of 8"; 8 with
    // its rotary: "of 16"); multiples of 16, what released checkpoints use (64, 128), are tested
    const contrib = ctx.ops === 'contrib' && headDim % 16 === 0 && !fusion.beforeLayer && !fusion.kvPrefix && !fusion.routing;
    if (contrib) {
      const int32 = (x: string) => g.op('Cast', [x], { to: { int: 6 } });
      // each row's keys after this call, minus one (its mask sum - 1), and the mask's width
      const seqlensK = int32(g.op('Sub', [g.op('ReduceSum', [keyMask, g.constInt64([1])], { keepdims: { int: 0 } }), scalar(1)]));
      const totalLength = int32(g.op('Gather', [g.op('Shape', [keyMask]), scalar(1)], { axis: { int: 0 } }));
      // GroupQueryAttention takes each row's keys as a prefix of its cache, and callers left-pad a
      // batch: each row's tokens of this call are moved before its padding here (GatherND), and the
      // logits moved back after the layers, so the graph takes and gives the standard layout
      const align = rowAlignment(g, keyMask, embeds);
      const halfRows = (table: Float32Array) => Float32Array.from({ length: maxPositions * (headDim / 2) }, (_, i) => table[Math.floor(i / (headDim / 2)) * headDim + (i % (headDim / 2))]!);
      const shared = {
        positions: align.gather(positions),
        seqlensK,
        totalLength,
        cosCache: g.floatTensor('rope.cos_cache', halfRows(tables.cos), [maxPositions, headDim / 2]),
        sinCache: g.floatTensor('rope.sin_cache', halfRows(tables.sin), [maxPositions, headDim / 2]),
      };
      const layers = contribDecoderLayers(g, llm, align.gather(embeds), shared, past.map((p) => ({ past: p, present: p.present, step: p.step })));
      hidden = layers.hidden;
      steps = layers.steps;
      restore = align.restore;
    } else {
      // additive mask [B, 1, T, S]: key s visible to query t when s <= P + t and attention_mask[b, s] = 1
      const s = g.op('Gather', [g.op('Shape', [keyMask]), scalar(1)], { axis: { int: 0 } });
      const t = g.op('Gather', [g.op('Shape', [embeds]), scalar(1)], { axis: { int: 0 } });
      const keyIndex = g.op('Unsqueeze', [g.op('Range', [scalar(0), s, scalar(1)]), g.constInt64([0])]); // [1, S]
      const queryIndex = g.op('Unsqueeze', [g.op('Range', [g.op('Sub', [s, t]), s, scalar(1)]), g.constInt64([1])]); // [T, 1]
      const causal = g.op('LessOrEqual', [keyIndex, queryIndex]); // [T, S]
      const real = g.op('Unsqueeze', [g.op('Cast', [keyMask], { to: { int: 9 } }), g.constInt64([1, 2])]); // bool [B, 1, 1, S]
      const mask = g.op('Where', [g.op('And', [causal, real]), g.constFloat([0], []), g.constFloat([MASKED], [])]); // [B, 1, T, S]

      const gatherRows = (table: string) => g.op('Unsqueeze', [g.op('Gather', [table, positions], { axis: { int: 0 } }), g.constInt64([1])]); // [B, 1, T, dh]
      const rope = {
        cos: gatherRows(g.floatTensor('rope.cos', tables.cos, [maxPositions, headDim])),
        sin: gatherRows(g.floatTensor('rope.sin', tables.sin, [maxPositions, headDim])),
      };
      let h = embeds;
      steps = llm.blocks.map((block, i) => {
        if (fusion.beforeLayer) h = fusion.beforeLayer(i, h); // [B, T, D]
        const { out, step } = transformerBlock(g, h, block, `language_model.model.layers.${i}`, { mask, rope, past: past[i], prefix: fusion.kvPrefix?.(i), routing: fusion.routing?.(i) });
        h = out;
        return step;
      });
      hidden = norm(g, h, llm.norm, 'language_model.model.norm');
    }
    // outputs in this order: logits, every layer's new keys/values, then present.*. onnxruntime-node
    // 1.21 labels fetched outputs by their place among all outputs, so what the runtime fetches
    // (logits and new_key_values.*, for its host-side cache) comes first; transformers.js reads
    // logits and present.* by name. The new keys/values are [B, Hkv, T, dh] on standard ops and
    // [B, T, Hkv dh] on GroupQueryAttention (its input layout: no Transpose node per layer)
    g.output(restore ? restore(vocabLogits(g, hidden, llm), 'logits') : vocabLogits(g, hidden, llm, 'logits'), 'logits', 'float32', ['batch_size', 'sequence_length', llm.vocabSize]);
    const stepDims = contrib ? ['batch_size', 'sequence_length', kvHeads * headDim] : ['batch_size', kvHeads, 'sequence_length', headDim];
    steps.forEach((step, i) => {
      g.output(step.key, `${NEW_KEY_VALUES}.${i}.key`, 'float32', stepDims);
      g.output(step.value, `${NEW_KEY_VALUES}.${i}.value`, 'float32', stepDims);
    });
    past.forEach(({ present }, i) => {
      g.output(present.key, `present.${i}.key`, 'float32', ['batch_size', kvHeads, 'total_sequence_length', headDim]);
      g.output(present.value, `present.${i}.value`, 'float32', ['batch_size', kvHeads, 'total_sequence_length', headDim]);
    });
    return contrib ? 'prefix' : 'appended';
  },

  hf(llm, manifest) {
    const { special } = manifest;
    return {
      model_type: 'llama',
      architectures: ['LlamaForCausalLM'],
      hidden_size: llm.dim,
      intermediate_size: llm.blocks[0]!.config.mlpHidden,
      num_hidden_layers: llm.numLayers,
      num_attention_heads: llm.numHeads,
      num_key_value_heads: manifest.llm.kvHeads,
      head_dim: manifest.llm.headDim,
      hidden_act: 'silu',
      rms_norm_eps: llm.config.normEps,
      rope_theta: llm.config.ropeTheta,
      max_position_embeddings: manifest.llm.maxPositions,
      vocab_size: llm.vocabSize,
      tie_word_embeddings: llm.config.tieWordEmbeddings,
      attention_bias: false,
      mlp_bias: false,
      ...(special.bos !== undefined && { bos_token_id: special.bos }),
      ...(special.eos !== undefined && { eos_token_id: special.eos }),
      pad_token_id: special.padId,
    };
  },

  record: (llm) => ({ ...llm.config }),
};
