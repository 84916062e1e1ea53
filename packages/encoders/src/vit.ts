import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { highResIssues, highResSchema } from './high-res';
import { Module, ModuleGroup, ModuleList, Rng, LayerNorm, TransformerBlock, linear, normalInit, type VisionEncoder } from '@mllm/core';

export const vitSchema = z
  .object({
    type: z.literal('vit'),
    imageSize: z.number().int().min(4).default(32),
    patchSize: z.number().int().min(1).default(8),
    channels: z.number().int().min(1).default(3),
    dim: z.number().int().min(4).default(64),
    layers: z.number().int().min(1).default(2),
    heads: z.number().int().min(1).default(4),
    /** MLP hidden width as a multiple of dim (CLIP: 4). */
    mlpRatio: z.number().positive().default(4),
    /** LLaVA takes the penultimate layer: the last is shaped by the contrastive objective. */
    featureLayer: z.enum(['last', 'penultimate']).default('penultimate'),
    /** LLaVA drops the CLS token and passes only patch tokens. */
    includeCls: z.boolean().default(false),
    /** Input larger than imageSize, seen by resizing or by tiles (see high-res.ts); absent: images are imageSize. */
    highRes: highResSchema.optional(),
  })
  .strict()
  .refine((c) => c.imageSize % c.patchSize === 0, { message: 'imageSize must be a multiple of patchSize', path: ['patchSize'] })
  .refine((c) => c.dim % c.heads === 0, { message: 'dim must be divisible by heads', path: ['heads'] })
  .superRefine((c, ctx) => {
    if (c.highRes) for (const issue of highResIssues(c.highRes, c.imageSize, c.includeCls, c.imageSize / c.patchSize)) ctx.addIssue({ code: 'custom', ...issue });
  });

export type VitConfig = z.output<typeof vitSchema>;

/** Patch, CLS and position embeddings (HF CLIPVisionEmbeddings). Shapes: B batch, N patches, D width. */
class VitEmbeddings extends Module {
  readonly patchWeight: tf.Variable; // [D, C, P, P] as HF's Conv2d
  readonly classEmbedding: tf.Variable;
  readonly positionEmbedding: tf.Variable;

  constructor(readonly config: VitConfig, rng: Rng) {
    super();
    const { dim, channels, patchSize, imageSize } = config;
    const numPositions = (imageSize / patchSize) ** 2 + 1;
    this.patchWeight = this.param('patch_embedding.weight', normalInit(rng, [dim, channels, patchSize, patchSize], 1 / Math.sqrt(channels * patchSize ** 2)));
    this.classEmbedding = this.param('class_embedding', normalInit(rng, [dim], 0.02));
    this.positionEmbedding = this.param('position_embedding.weight', normalInit(rng, [numPositions, dim], 0.02));
  }

  forward(pixels: tf.Tensor4D): tf.Tensor3D {
    const { dim, channels: c, patchSize: p, imageSize } = this.config;
    const [b] = pixels.shape;
    const g = imageSize / p;
    // A stride-P convolution is a matMul over flattened (C, P, P) patches.
    const patches = pixels
      .reshape([b, g, p, g, p, c])
      .transpose([0, 1, 3, 5, 2, 4])
      .reshape([b * g * g, c * p * p]) as tf.Tensor2D; // [B*N, C*P*P]
    const tokens = linear(patches, this.patchWeight.reshape([dim, c * p * p]) as tf.Tensor2D).reshape([b, g * g, dim]); // [B, N, D]
    const cls = this.classEmbedding.reshape([1, 1, dim]).tile([b, 1, 1]);
    return tf.concat([cls, tokens], 1).add(this.positionEmbedding) as tf.Tensor3D; // [B, N+1, D]
  }
}

/** CLIP-style Vision Transformer, HF CLIPVisionModel parameter names. Radford et al., arXiv:2103.00020. */
export class VisionTransformer extends Module implements VisionEncoder {
  readonly kind = 'vision-encoder' as const;
  readonly strategy = 'resize' as const;
  readonly embeddings: VitEmbeddings;
  readonly preNorm: LayerNorm;
  readonly blocks: readonly TransformerBlock[];
  readonly postNorm: LayerNorm;

  constructor(readonly config: VitConfig, rng: Rng) {
    super();
    this.embeddings = this.add('embeddings', new VitEmbeddings(config, rng));
    this.preNorm = this.add('pre_layrnorm', new LayerNorm(config.dim)); // sic: HF's spelling
    this.blocks = Array.from(
      { length: config.layers },
      () => new TransformerBlock({ dim: config.dim, numHeads: config.heads, mlpHidden: Math.round(config.dim * config.mlpRatio), style: 'clip' }, rng),
    );
    this.add('encoder', new ModuleGroup({ layers: new ModuleList(this.blocks) }));
    this.postNorm = this.add('post_layernorm', new LayerNorm(config.dim));
  }

  get imageSize(): number {
    return this.config.imageSize;
  }
  get outputDim(): number {
    return this.config.dim;
  }
  get numTokens(): number {
    return (this.config.imageSize / this.config.patchSize) ** 2 + (this.config.includeCls ? 1 : 0);
  }

  /** Runs the blocks; returns the hidden states after `depth` blocks. */
  private hidden(pixels: tf.Tensor4D, depth: number): tf.Tensor3D {
    this.checkPixels(pixels);
    let h = this.preNorm.forward(this.embeddings.forward(pixels.sub(0.5).mul(2) as tf.Tensor4D)); // [B, N+1, D], pixels to [-1, 1]
    for (const block of this.blocks.slice(0, depth)) h = block.forward(h).out;
    return h;
  }

  encode(pixels: tf.Tensor4D): tf.Tensor3D {
    return tf.tidy(() => {
      const depth = this.config.featureLayer === 'penultimate' ? Math.max(1, this.blocks.length - 1) : this.blocks.length;
      const h = this.hidden(pixels, depth);
      return this.config.includeCls ? h : (h.slice([0, 1, 0], [-1, -1, -1]) as tf.Tensor3D); // [B, N, D]
    });
  }

  pooled(pixels: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => {
      const h = this.hidden(pixels, this.blocks.length);
      return this.postNorm.forward(h.slice([0, 0, 0], [-1, 1, -1]).squeeze([1])) as tf.Tensor2D; // [B, D] from CLS
    });
  }

  private checkPixels(pixels: tf.Tensor4D): void {
    const { imageSize, channels } = this.config;
    const [, h, w, c] = pixels.shape;
    if (h !== imageSize || w !== imageSize || c !== channels)
      throw new Error(`vit: expected pixels [B, ${imageSize}, ${imageSize}, ${channels}], got [${pixels.shape}]. Resize images to encoder.imageSize.`);
  }
}
