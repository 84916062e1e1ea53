import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import {
  Embedding,
  Linear,
  Module,
  ModuleGroup,
  ModuleList,
  RMSNorm,
  RotaryEmbedding,
  TransformerBlock,
  buildAttentionMask,
  moeAux,
  type FusionPoint,
  type MoeAux,
  type MoeRouting,
  type LanguageModel,
  type LmForwardOptions,
  type Rng,
} from '@mllm/core';
import { positionsFromMask } from './positions';
import { vocabLogits } from './vocab-head';
import { imageBoostMask } from './image-attention-boost';

/**
 * The decoder's feed-forward: dense SwiGLU, or a sparse Mixture-of-Experts of SwiGLU experts
 * (Mixtral) that grows parameters without growing compute per token.
 */
export const ffnSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('dense') }).strict(),
  z
    .object({
      type: z.literal('moe'),
      experts: z.number().int().min(2).default(8),
      /** Experts per token; Mixtral uses 2 of 8. */
      topK: z.number().int().min(1).default(2),
      /** Load-balancing loss weight (Switch uses 0.01, HF Mixtral 0.02). */
      auxLossCoef: z.number().min(0).default(0.01),
      /** Router z-loss weight (ST-MoE uses 0.001); 0: off. */
      routerZLossCoef: z.number().min(0).default(0),
      /** Per-expert slots while training = ceil(capacityFactor * tokens * topK / experts); absent: no limit, no token dropped. */
      capacityFactor: z.number().positive().optional(),
    })
    .strict()
    .refine((c) => c.topK <= c.experts, { message: 'topK must be <= experts', path: ['topK'] }),
]);

export type FfnConfig = z.output<typeof ffnSchema>;

/** The auxiliaries of one forward from its MoE layers (undefined for a dense feed-forward). */
export function ffnAux(ffn: FfnConfig, routings: readonly MoeRouting[]): MoeAux | undefined {
  return ffn.type === 'moe' ? moeAux(routings, ffn) : undefined;
}

export const causalLmSchema = z
  .object({
    type: z.literal('causal'),
    dim: z.number().int().min(4).default(64),
    layers: z.number().int().min(1).default(2),
    heads: z.number().int().min(1).default(4),
    /** Grouped-query attention; defaults to heads (plain multi-head). */
    kvHeads: z.number().int().min(1).optional(),
    /** SwiGLU hidden width; LLaMA uses ~8/3 of dim. */
    mlpHidden: z.number().int().min(1).optional(),
    ropeTheta: z.number().positive().default(10000),
    normEps: z.number().positive().default(1e-6),
    ffn: ffnSchema.default({ type: 'dense' }),
    /** The LM head is embed_tokens.weight (HF `tie_word_embeddings`): no lm_head parameter, V x D fewer. */
    tieWordEmbeddings: z.boolean().default(false),
  })
  .strict()
  .refine((c) => c.dim % c.heads === 0, { message: 'dim must be divisible by heads', path: ['heads'] })
  .refine((c) => c.heads % (c.kvHeads ?? c.heads) === 0, { message: 'heads must be divisible by kvHeads', path: ['kvHeads'] })
  .refine((c) => (c.dim / c.heads) % 2 === 0, { message: 'dim / heads must be even for RoPE', path: ['heads'] });

export type CausalLmConfig = z.output<typeof causalLmSchema>;

/**
 * LLaMA-style decoder-only LM (RMSNorm, RoPE, SwiGLU), HF LlamaForCausalLM parameter
 * names. Touvron et al., arXiv:2302.13971. Shapes: B batch, T tokens, D width, V vocab.
 */
export class CausalLM extends Module implements LanguageModel {
  readonly kind = 'language-model' as const;
  readonly fusionPoints: readonly FusionPoint[] = ['before-layer', 'modality-routing', 'kv-prefix'];
  readonly embedTokens: Embedding;
  readonly blocks: readonly TransformerBlock[];
  readonly norm: RMSNorm;
  /** Absent when tied: the logits come from embed_tokens.weight. */
  readonly lmHead: Linear | undefined;
  readonly rotary: RotaryEmbedding;

  constructor(readonly config: CausalLmConfig, readonly vocabSize: number, rng: Rng) {
    super();
    const { dim, heads } = config;
    const mlpHidden = config.mlpHidden ?? Math.round((dim * 8) / 3);
    this.embedTokens = new Embedding(vocabSize, dim, rng);
    this.blocks = Array.from(
      { length: config.layers },
      () => new TransformerBlock({ dim, numHeads: heads, numKvHeads: config.kvHeads, mlpHidden, style: 'llama', normEps: config.normEps, ffn: config.ffn }, rng),
    );
    this.norm = new RMSNorm(dim, config.normEps);
    this.add('model', new ModuleGroup({ embed_tokens: this.embedTokens, layers: new ModuleList(this.blocks), norm: this.norm }));
    this.lmHead = config.tieWordEmbeddings ? undefined : this.add('lm_head', new Linear(dim, vocabSize, rng, { bias: false, std: 0.02 }));
    this.rotary = new RotaryEmbedding(dim / heads, config.ropeTheta);
  }

  get dim(): number {
    return this.config.dim;
  }
  get numLayers(): number {
    return this.config.layers;
  }
  get numHeads(): number {
    return this.config.heads;
  }
  /** Honours `LmForwardOptions.imageAttention` (PAI); so does the prefix LM built on it. */
  readonly boostsImageAttention = true;

  get experts(): number | undefined {
    return this.config.ffn.type === 'moe' ? this.config.ffn.experts : undefined;
  }

  embed(ids: tf.Tensor2D): tf.Tensor3D {
    return this.embedTokens.forward(ids) as tf.Tensor3D;
  }

  forward(embeds: tf.Tensor3D, options: LmForwardOptions = {}): { logits: tf.Tensor3D; hidden: tf.Tensor3D; aux?: MoeAux } {
    const [b, t] = embeds.shape;
    const cache = options.cache;
    const past = cache?.layers[0]?.key.shape[2] ?? 0;
    const keyMask = options.attentionMask ?? Array.from({ length: b }, () => new Array<number>(t).fill(1));
    const fullKeyMask = cache?.keyMask.length ? cache.keyMask.map((row, i) => [...row, ...keyMask[i]!]) : keyMask;
    const positions = options.positions ?? positionsFromMask(fullKeyMask, t);
    return tf.tidy(() => {
      const mask = buildAttentionMask(b, past + t, {
        pattern: options.pattern ?? 'causal',
        keyMask: fullKeyMask,
        prefixLengths: options.prefixLengths,
        queryLength: t,
      });
      const rope = { rotary: this.rotary, tables: this.rotary.tables(positions) };
      const imageAttention = options.imageAttention && options.imageAttention.alpha !== 0 ? options.imageAttention : undefined;
      const boost = imageAttention && { mask: imageBoostMask(b, t, past + t, imageAttention), alpha: imageAttention.alpha };
      let h = embeds; // [B, T, D]
      const routings: MoeRouting[] = [];
      const fusion = options.fusion;
      this.blocks.forEach((block, i) => {
        if (fusion?.beforeLayer) h = fusion.beforeLayer(i, h, { past }); // [B, T, D]
        // asked at every call, never cached: the prefix is not part of the sequence
        const prefix = fusion?.kvPrefix?.(i);
        const routing = fusion?.routing?.(i, { past }, t);
        const boosted = boost && i >= imageAttention!.fromLayer ? { boost } : {};
        const { out, present, moe } = block.forward(h, { mask, rope, past: cache?.layers[i], prefix, routing, tokenMask: keyMask, ...boosted });
        if (moe) routings.push(moe);
        if (cache) {
          cache.layers[i]?.key.dispose();
          cache.layers[i]?.value.dispose();
          cache.layers[i] = { key: tf.keep(present.key), value: tf.keep(present.value) };
        }
        h = out;
      });
      if (cache) cache.keyMask = fullKeyMask;
      const hidden = this.norm.forward(h); // [B, T, D]
      const aux = ffnAux(this.config.ffn, routings);
      return { hidden, logits: vocabLogits(hidden, this.embedTokens, this.lmHead), ...(aux && { aux }) }; // logits [B, T, V]
    });
  }
}

