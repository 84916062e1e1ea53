import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { highResIssues, highResSchema } from './high-res';
import { Module, ModuleGroup, ModuleList, Rng, LayerNorm, TransformerBlock, linearForward, normalInit, type TokenGrid, type VisionEncoder } from '@mllm/core';
import { VIT_ACTIVATIONS } from './activations';
import { VisionMLP } from './vision-mlp';
import { AttentionPoolingHead } from './attention-pool';
import { withHfVisionConfig } from './hf-vision-config';

const rgbSchema = z.tuple([z.number(), z.number(), z.number()]);

const vitFields = z
  .object({
    type: z.literal('vit'),
    /** `"hf:path/to/folder"`: a HuggingFace CLIP or SigLIP vision tower; its config.json sets the shape and its weights are loaded. */
    from: z.string().optional(),
    /**
     * `clip`: CLS token, bias-free patch convolution, pre_layrnorm (CLIPVisionModel).
     * `siglip`: no CLS, patch convolution with bias, no pre-norm, post-norm over every token (SiglipVisionModel).
     */
    variant: z.enum(['clip', 'siglip']).default('clip'),
    imageSize: z.number().int().min(4).default(32),
    patchSize: z.number().int().min(1).default(8),
    channels: z.number().int().min(1).default(3),
    dim: z.number().int().min(4).default(64),
    layers: z.number().int().min(1).default(2),
    heads: z.number().int().min(1).default(4),
    /** MLP hidden width as a multiple of dim (CLIP: 4). */
    mlpRatio: z.number().positive().default(4),
    /** Exact MLP hidden width (HF intermediate_size); overrides mlpRatio. */
    mlpHidden: z.number().int().min(1).optional(),
    /** Exact GELU for our own encoders; OpenAI CLIP was trained with quick-gelu, SigLIP with gelu-tanh. */
    activation: z.enum(VIT_ACTIVATIONS).default('gelu'),
    /** LayerNorm epsilon (HF layer_norm_eps: CLIP 1e-5, SigLIP 1e-6). */
    normEps: z.number().positive().default(1e-5),
    /** Images arrive in [0, 1]; the encoder normalises them with (x - mean) / std per RGB channel. 0.5 maps to [-1, 1]. */
    pixelMean: rgbSchema.default([0.5, 0.5, 0.5]),
    pixelStd: rgbSchema.default([0.5, 0.5, 0.5]),
    /** SigLIP's attention-pooling head (`head.*`) gives `pooled`; without it a SigLIP encoder pools by the token mean. */
    attentionPool: z.boolean().default(false),
    /**
     * Which hidden state `encode` returns, counted as HF's `hidden_states` (0 the embeddings, i
     * the output of block i, negative from the end: -1 last, -2 penultimate), or by name.
     * LLaVA takes the penultimate layer (`vision_feature_layer: -2`): the last is shaped by the
     * contrastive objective. `output` is HF's last_hidden_state (SigLIP: after post_layernorm).
     */
    featureLayer: z.union([z.enum(['last', 'penultimate', 'output']), z.number().int()]).default('penultimate'),
    /** LLaVA drops the CLS token and passes only patch tokens (`vision_feature_select_strategy: "default"`). */
    includeCls: z.boolean().default(false),
    /** Input larger than imageSize, seen by resizing or by tiles (see high-res.ts); absent: images are imageSize. */
    highRes: highResSchema.optional(),
  })
  .strict();

export const vitSchema = z
  .preprocess(withHfVisionConfig, vitFields)
  .refine((c) => c.imageSize % c.patchSize === 0, { message: 'imageSize must be a multiple of patchSize', path: ['patchSize'] })
  .refine((c) => c.dim % c.heads === 0, { message: 'dim must be divisible by heads', path: ['heads'] })
  .refine((c) => !(c.variant === 'siglip' && c.includeCls), { message: 'a siglip encoder has no CLS token; set includeCls to false', path: ['includeCls'] })
  .refine((c) => !(c.variant === 'clip' && c.attentionPool), { message: 'the attention-pooling head belongs to siglip; a clip encoder pools its CLS token', path: ['attentionPool'] })
  .superRefine((c, ctx) => {
    const n = c.layers;
    if (typeof c.featureLayer === 'number' && (c.featureLayer > n || c.featureLayer < -(n + 1)))
      ctx.addIssue({ code: 'custom', path: ['featureLayer'], message: `${c.featureLayer} is outside the ${n + 1} hidden states (0..${n}, or -${n + 1}..-1)` });
    if (c.highRes) for (const issue of highResIssues(c.highRes, c.imageSize, c.includeCls, c.imageSize / c.patchSize)) ctx.addIssue({ code: 'custom', ...issue });
  });

export type VitConfig = z.output<typeof vitSchema>;

/** How many blocks run before the feature layer, for a hidden_states index or name. */
export function featureDepth(featureLayer: VitConfig['featureLayer'], layers: number): number {
  if (featureLayer === 'last' || featureLayer === 'output') return layers;
  // one block cannot give a penultimate layer that is not the embeddings; kept as before: the last
  if (featureLayer === 'penultimate') return Math.max(1, layers - 1);
  return featureLayer >= 0 ? featureLayer : layers + 1 + featureLayer;
}

/** Patch, CLS and position embeddings (HF CLIPVisionEmbeddings / SiglipVisionEmbeddings). Shapes: B batch, N patches, D width. */
class VitEmbeddings extends Module {
  readonly patchWeight: tf.Variable; // [D, C, P, P] as HF's Conv2d
  readonly patchBias?: tf.Variable;
  readonly classEmbedding?: tf.Variable;
  readonly positionEmbedding: tf.Variable;

  constructor(readonly config: VitConfig, rng: Rng) {
    super();
    const { dim, channels, patchSize, imageSize } = config;
    const clip = config.variant === 'clip';
    const numPositions = (imageSize / patchSize) ** 2 + (clip ? 1 : 0);
    this.patchWeight = this.param('patch_embedding.weight', normalInit(rng, [dim, channels, patchSize, patchSize], 1 / Math.sqrt(channels * patchSize ** 2)));
    if (!clip) this.patchBias = this.param('patch_embedding.bias', tf.zeros([dim]));
    if (clip) this.classEmbedding = this.param('class_embedding', normalInit(rng, [dim], 0.02));
    this.positionEmbedding = this.param('position_embedding.weight', normalInit(rng, [numPositions, dim], 0.02));
  }

  /** Normalised pixels [B, H, W, C] -> [B, N(+1), D]. */
  forward(pixels: tf.Tensor4D): tf.Tensor3D {
    const { dim, channels: c, patchSize: p, imageSize } = this.config;
    const [b] = pixels.shape;
    const g = imageSize / p;
    // A stride-P convolution is a matMul over flattened (C, P, P) patches.
    const patches = pixels
      .reshape([b, g, p, g, p, c])
      .transpose([0, 1, 3, 5, 2, 4])
      .reshape([b * g * g, c * p * p]) as tf.Tensor2D; // [B*N, C*P*P]
    const tokens = linearForward(patches, this.patchWeight.reshape([dim, c * p * p]) as tf.Tensor2D, this.patchBias as tf.Tensor1D | undefined).reshape([b, g * g, dim]); // [B, N, D]
    if (!this.classEmbedding) return tokens.add(this.positionEmbedding) as tf.Tensor3D; // [B, N, D]
    const cls = this.classEmbedding.reshape([1, 1, dim]).tile([b, 1, 1]);
    return tf.concat([cls, tokens], 1).add(this.positionEmbedding) as tf.Tensor3D; // [B, N+1, D]
  }
}

/** What HF returns with output_hidden_states=True. */
export interface VitHiddenStates {
  /** [B, T, D] x (layers + 1): the first block's input, then every block's output. */
  hiddenStates: tf.Tensor3D[];
  /** [B, T, D]: CLIP the last block's output; SigLIP that after post_layernorm. */
  lastHiddenState: tf.Tensor3D;
  /** [B, D]: CLIP post_layernorm(CLS); SigLIP the attention-pooling head (token mean without it). */
  poolerOutput: tf.Tensor2D;
}

/**
 * Vision Transformer with HF CLIPVisionModel / SiglipVisionModel parameter names (without the
 * `vision_model.` prefix). CLIP: Radford et al., arXiv:2103.00020; SigLIP: Zhai et al., arXiv:2303.15343.
 */
export class VisionTransformer extends Module implements VisionEncoder {
  readonly kind = 'vision-encoder' as const;
  readonly strategy = 'resize' as const;
  readonly embeddings: VitEmbeddings;
  readonly preNorm?: LayerNorm;
  readonly blocks: readonly TransformerBlock[];
  readonly postNorm: LayerNorm;
  readonly head?: AttentionPoolingHead;
  private readonly mean: tf.Tensor1D;
  private readonly invStd: tf.Tensor1D;

  constructor(readonly config: VitConfig, rng: Rng) {
    super();
    const { dim, heads, normEps, activation } = config;
    const mlpHidden = config.mlpHidden ?? Math.round(dim * config.mlpRatio);
    this.embeddings = this.add('embeddings', new VitEmbeddings(config, rng));
    if (config.variant === 'clip') this.preNorm = this.add('pre_layrnorm', new LayerNorm(dim, normEps)); // sic: HF's spelling
    this.blocks = Array.from(
      { length: config.layers },
      // exact GELU keeps core's GeluMLP, so our own encoders draw the same initial weights as before
      () => new TransformerBlock({ dim, numHeads: heads, mlpHidden, style: 'clip', normEps }, rng, activation === 'gelu' ? undefined : new VisionMLP(dim, mlpHidden, activation, rng)),
    );
    this.add('encoder', new ModuleGroup({ layers: new ModuleList(this.blocks) }));
    this.postNorm = this.add('post_layernorm', new LayerNorm(dim, normEps));
    if (config.attentionPool) this.head = this.add('head', new AttentionPoolingHead({ dim, heads, mlpHidden, activation, normEps }, rng));
    this.mean = tf.keep(tf.tensor1d(config.pixelMean));
    this.invStd = tf.keep(tf.tensor1d(config.pixelStd.map((s) => 1 / s)));
  }

  get imageSize(): number {
    return this.config.imageSize;
  }
  get outputDim(): number {
    return this.config.dim;
  }
  private get hasCls(): boolean {
    return this.config.variant === 'clip';
  }
  get numTokens(): number {
    return (this.config.imageSize / this.config.patchSize) ** 2 + (this.config.includeCls && this.hasCls ? 1 : 0);
  }
  /** The patch grid, after the CLS token when `includeCls` keeps it. */
  get pixelNormalization(): { mean: readonly number[]; std: readonly number[] } {
    return { mean: this.config.pixelMean, std: this.config.pixelStd };
  }
  get tokenGrid(): TokenGrid {
    const side = this.config.imageSize / this.config.patchSize;
    return { rows: side, columns: side, leading: this.config.includeCls && this.hasCls ? 1 : 0, trailing: 0 };
  }

  /** Pixels in [0, 1] [B, H, W, C] -> what HF's image processor hands the model: (x - mean) / std. */
  normalize(pixels: tf.Tensor4D): tf.Tensor4D {
    this.checkPixels(pixels);
    return tf.tidy(() => pixels.sub(this.mean).mul(this.invStd) as tf.Tensor4D);
  }

  /** The first block's input: embeddings, then pre_layrnorm for CLIP (HF's hidden_states[0]). */
  private stem(normalized: tf.Tensor4D): tf.Tensor3D {
    const e = this.embeddings.forward(normalized); // [B, T, D]
    return this.preNorm ? this.preNorm.forward(e) : e;
  }

  /** Runs the blocks on normalised pixels; returns the hidden states after `depth` blocks. */
  private hidden(normalized: tf.Tensor4D, depth: number): tf.Tensor3D {
    let h = this.stem(normalized); // [B, T, D]
    for (const block of this.blocks.slice(0, depth)) h = block.forward(h).out;
    return h;
  }

  /** [B, T, D] final block output -> [B, D] pooled as HF's pooler_output. */
  private pool(last: tf.Tensor3D): tf.Tensor2D {
    if (this.hasCls) return this.postNorm.forward(last.slice([0, 0, 0], [-1, 1, -1]).squeeze([1])) as tf.Tensor2D; // [B, D] from CLS
    const normed = this.postNorm.forward(last);
    return this.head ? this.head.forward(normed) : (normed.mean(1) as tf.Tensor2D);
  }

  encode(pixels: tf.Tensor4D): tf.Tensor3D {
    return tf.tidy(() => {
      const { featureLayer, layers } = this.config;
      let h = this.hidden(this.normalize(pixels), featureDepth(featureLayer, layers));
      if (featureLayer === 'output' && !this.hasCls) h = this.postNorm.forward(h);
      return this.config.includeCls || !this.hasCls ? h : (h.slice([0, 1, 0], [-1, -1, -1]) as tf.Tensor3D); // [B, N, D]
    });
  }

  pooled(pixels: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => this.pool(this.hidden(this.normalize(pixels), this.blocks.length)));
  }

  /**
   * Every hidden state as HF's forward(pixel_values, output_hidden_states=True) returns them,
   * from pixels already normalised by the image processor, [B, H, W, C]. The caller disposes.
   */
  forwardHidden(normalized: tf.Tensor4D): VitHiddenStates {
    this.checkPixels(normalized);
    return tf.tidy(() => {
      const hiddenStates = [this.stem(normalized)];
      for (const block of this.blocks) hiddenStates.push(block.forward(hiddenStates[hiddenStates.length - 1]!).out);
      const last = hiddenStates[hiddenStates.length - 1]!;
      const lastHiddenState = this.hasCls ? last.clone() : this.postNorm.forward(last);
      return { hiddenStates, lastHiddenState, poolerOutput: this.pool(last) };
    });
  }

  override dispose(): void {
    this.mean.dispose();
    this.invStd.dispose();
    super.dispose();
  }

  private checkPixels(pixels: tf.Tensor4D): void {
    const { imageSize, channels } = this.config;
    const [, h, w, c] = pixels.shape;
    if (h !== imageSize || w !== imageSize || c !== channels)
      throw new Error(`vit: expected pixels [B, ${imageSize}, ${imageSize}, ${channels}], got [${pixels.shape}]. Resize images to encoder.imageSize.`);
  }
}
