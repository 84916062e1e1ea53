import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import {
  Embedding,
  Linear,
  MllmError,
  Module,
  ModuleGroup,
  ModuleList,
  RMSNorm,
  RotaryEmbedding,
  TransformerBlock,
  buildAttentionMask,
  type FusionPoint,
  type KvCache,
  type LanguageModel,
  type LmForwardOptions,
  type MoeAux,
  type MoeRouting,
  type Rng,
} from '@mllm/core';
import { ffnAux } from './causal-lm';
import { positionsFromMask } from './positions';
import { causalOptionsSchema } from './backbone-options';
import { DecoderBlock, type CrossKeyValues } from './decoder-block';
import { splitAtPrefix } from './prefix-split';
import { vocabLogits } from './vocab-head';

/**
 * The causal LM's options, with `layers` counting decoder layers (the ones that make the logits)
 * and `encoderLayers` the encoder's, defaulting to as many (T5 gives both stacks one depth).
 */
export const encoderDecoderLmSchema = causalOptionsSchema.safeExtend({
  type: z.literal('encoder-decoder'),
  encoderLayers: z.number().int().min(1).optional(),
});

export type EncoderDecoderLmConfig = z.output<typeof encoderDecoderLmSchema>;

type Output = { logits: tf.Tensor3D; hidden: tf.Tensor3D; aux?: MoeAux };

/**
 * Encoder-decoder LM (T5, Raffel et al., arXiv:1910.10683; the survey's third LLM family) behind
 * the decoder-only interface: each row's prefix (image tokens and instruction) goes through a
 * bidirectional encoder, the rest through a causal decoder that cross-attends to it. Built from
 * the LLaMA parts (RMSNorm, SwiGLU, one embedding table shared by both stacks as T5's `shared`).
 *
 * Positions: RoPE in both stacks' self-attention (encoder from 0 at its first real token, decoder
 * from 0 at its first token), none in cross-attention. Not T5's bucketed relative bias: RoPE is
 * relative too, needs no per-layer [H, T, S] bias tensor rebuilt at every decoding step, keeps the
 * cache a plain key/value cache, and matches the causal and prefix backbones, so a comparison
 * between the three changes only the attention layout.
 *
 * Sequence layout (see `splitAtPrefix`): the decoder starts at the prompt's last token, which
 * predicts the first response token. Logits and hidden states come back [B, T, ...] for the whole
 * sequence so the batch's loss weights line up; positions before the decoder's start are zeros.
 * They lie inside the prompt, which carries no loss.
 *
 * KV cache: the prefill runs the encoder once and stores each decoder layer's cross-attention
 * keys/values (`KvCache.encoder`); later calls run the decoder only, on the new tokens.
 */
export class EncoderDecoderLM extends Module implements LanguageModel {
  readonly kind = 'language-model' as const;
  readonly needsPrefix = true;
  /** None: fusion hooks address the decoder-only sequence, which this model splits in two. */
  readonly fusionPoints: readonly FusionPoint[] = [];
  readonly embedTokens: Embedding;
  readonly encoderBlocks: readonly TransformerBlock[];
  readonly encoderNorm: RMSNorm;
  readonly decoderBlocks: readonly DecoderBlock[];
  readonly decoderNorm: RMSNorm;
  /** Absent when tied: the logits come from embed_tokens.weight. */
  readonly lmHead: Linear | undefined;
  readonly rotary: RotaryEmbedding;

  constructor(readonly config: EncoderDecoderLmConfig, readonly vocabSize: number, rng: Rng) {
    super();
    const { dim, heads, kvHeads, normEps, ffn } = config;
    const mlpHidden = config.mlpHidden ?? Math.round((dim * 8) / 3);
    this.embedTokens = new Embedding(vocabSize, dim, rng);
    this.encoderBlocks = Array.from(
      { length: config.encoderLayers ?? config.layers },
      () => new TransformerBlock({ dim, numHeads: heads, numKvHeads: kvHeads, mlpHidden, style: 'llama', normEps, ffn }, rng),
    );
    this.encoderNorm = new RMSNorm(dim, normEps);
    this.decoderBlocks = Array.from({ length: config.layers }, () => new DecoderBlock({ dim, numHeads: heads, numKvHeads: kvHeads, mlpHidden, normEps, ffn }, rng));
    this.decoderNorm = new RMSNorm(dim, normEps);
    this.add(
      'model',
      new ModuleGroup({
        embed_tokens: this.embedTokens,
        encoder: new ModuleGroup({ layers: new ModuleList(this.encoderBlocks), norm: this.encoderNorm }),
        decoder: new ModuleGroup({ layers: new ModuleList(this.decoderBlocks), norm: this.decoderNorm }),
      }),
    );
    this.lmHead = config.tieWordEmbeddings ? undefined : this.add('lm_head', new Linear(dim, vocabSize, rng, { bias: false, std: 0.02 }));
    this.rotary = new RotaryEmbedding(dim / heads, config.ropeTheta);
  }

  get dim(): number {
    return this.config.dim;
  }
  /** Decoder layers. */
  get numLayers(): number {
    return this.config.layers;
  }
  get numHeads(): number {
    return this.config.heads;
  }

  /** Experts per MoE layer, so training logs their utilisation as it does for the causal LM. */
  get experts(): number | undefined {
    return this.config.ffn.type === 'moe' ? this.config.ffn.experts : undefined;
  }

  embed(ids: tf.Tensor2D): tf.Tensor3D {
    return this.embedTokens.forward(ids) as tf.Tensor3D;
  }

  /**
   * embeds [B, T, D] -> logits [B, T, V]. Without a cache, or with an empty one (prefill): split
   * at `prefixLengths`, encode, decode. With a filled cache: T new decoder tokens only (the prefix
   * lengths of that call are not read; the encoder side is the prefill's).
   */
  forward(embeds: tf.Tensor3D, options: LmForwardOptions = {}): Output {
    if (options.fusion) throw new MllmError('the encoder-decoder LLM honours no fusion plug points; use a token-level connector (mlp, linear, qformer, perceiver)');
    const [b, t] = embeds.shape;
    const keyMask = options.attentionMask ?? Array.from({ length: b }, () => new Array<number>(t).fill(1));
    const cache = options.cache;
    if (cache?.encoder) return this.decodeStep(embeds, keyMask, cache);
    const split = splitAtPrefix(keyMask, options.prefixLengths);
    const d = embeds.shape[2];
    return tf.tidy(() => {
      const routings: MoeRouting[] = [];
      const encoded = this.encode(embeds.slice([0, 0, 0], [b, split.encoderLength, d]), split.encoderMask, routings); // [B, S, D]
      const cross = this.decoderBlocks.map((block) => block.crossAttn.project(encoded)); // [B, Hkv, S, dh] each
      const o = split.decoderOffset;
      const decoded = this.decode(embeds.slice([0, o, 0], [b, t - o, d]), split.decoderMask, cross, split.encoderMask, routings, cache); // [B, T - o, ...]
      if (cache) cache.encoder = { layers: cross.map(({ key, value }) => ({ key: tf.keep(key), value: tf.keep(value) })), keyMask: split.encoderMask };
      const aux = ffnAux(this.config.ffn, routings);
      // the prompt positions before the decoder's start: no prediction is read there
      const logits = o === 0 ? decoded.logits : (tf.concat([tf.zeros([b, o, this.vocabSize]), decoded.logits], 1) as tf.Tensor3D);
      const hidden = o === 0 ? decoded.hidden : (tf.concat([tf.zeros([b, o, d]), decoded.hidden], 1) as tf.Tensor3D);
      return { logits, hidden, ...(aux && { aux }) };
    });
  }

  /** x [B, S, D] over each row's prefix -> encoder output [B, S, D] (bidirectional, after the final norm). */
  private encode(x: tf.Tensor3D, encoderMask: number[][], routings: MoeRouting[]): tf.Tensor3D {
    const [b, s] = x.shape;
    const mask = buildAttentionMask(b, s, { pattern: 'bidirectional', keyMask: encoderMask });
    const rope = { rotary: this.rotary, tables: this.rotary.tables(positionsFromMask(encoderMask, s)) };
    let h = x;
    for (const block of this.encoderBlocks) {
      const { out, moe } = block.forward(h, { mask, rope, tokenMask: encoderMask });
      if (moe) routings.push(moe);
      h = out; // [B, S, D]
    }
    return this.encoderNorm.forward(h);
  }

  /**
   * The decoder over x [B, T_new, D], after the cached steps if any. `decoderMask` covers only the
   * new tokens; the cache, when given, receives the self-attention keys/values and the mask.
   */
  private decode(x: tf.Tensor3D, decoderMask: number[][], cross: CrossKeyValues[], encoderMask: number[][], routings: MoeRouting[], cache?: KvCache): { logits: tf.Tensor3D; hidden: tf.Tensor3D } {
    const [b, t] = x.shape;
    const past = cache?.layers[0]?.key.shape[2] ?? 0;
    const fullMask = cache?.keyMask.length ? cache.keyMask.map((row, i) => [...row, ...decoderMask[i]!]) : decoderMask;
    const mask = buildAttentionMask(b, past + t, { pattern: 'causal', keyMask: fullMask, queryLength: t });
    const crossMask = buildAttentionMask(b, encoderMask[0]!.length, { pattern: 'bidirectional', keyMask: encoderMask, queryLength: t });
    const rope = { rotary: this.rotary, tables: this.rotary.tables(positionsFromMask(fullMask, t)) };
    let h = x;
    this.decoderBlocks.forEach((block, i) => {
      const { out, present, moe } = block.forward(h, { self: { mask, rope, past: cache?.layers[i] }, cross: cross[i]!, crossMask, tokenMask: decoderMask });
      if (moe) routings.push(moe);
      if (cache) {
        cache.layers[i]?.key.dispose();
        cache.layers[i]?.value.dispose();
        cache.layers[i] = { key: tf.keep(present.key), value: tf.keep(present.value) };
      }
      h = out; // [B, T, D]
    });
    if (cache) cache.keyMask = fullMask;
    const hidden = this.decoderNorm.forward(h); // [B, T, D]
    return { hidden, logits: vocabLogits(hidden, this.embedTokens, this.lmHead) }; // logits [B, T, V]
  }

  private decodeStep(embeds: tf.Tensor3D, keyMask: number[][], cache: KvCache): Output {
    const encoder = cache.encoder!;
    if (encoder.keyMask.length !== embeds.shape[0])
      throw new MllmError(`the cache holds ${encoder.keyMask.length} rows but this step has ${embeds.shape[0]}; decode with the batch the cache was filled with`);
    return tf.tidy(() => {
      const routings: MoeRouting[] = [];
      const decoded = this.decode(embeds, keyMask, encoder.layers, encoder.keyMask, routings, cache);
      const aux = ffnAux(this.config.ffn, routings);
      return { ...decoded, ...(aux && { aux }) };
    });
  }
}
