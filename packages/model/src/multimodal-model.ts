import * as tf from '@tensorflow/tfjs';
import { Module, maskedCrossEntropy, type LanguageModel, type TokenConnector, type VisionEncoder } from '@mllm/core';
import { generateFromEmbeddings, type GenerateOptions } from '@mllm/llm';
import { collatePrompts, collateTraining, type BatchOptions, type ModelBatch, type TokenizedSample } from './batch';
import { placeImageTokens, type ImageSlot } from './splice';

export interface SpecialIds {
  imageTokenId: number;
  padId: number;
}

/**
 * Encoder + token-level connector + LLM (LLaVA, arXiv:2304.08485). Parameter names follow
 * HF LlavaForConditionalGeneration: `vision_tower`, `multi_modal_projector`, `language_model`.
 * Shapes: B batch, T tokens, N patches, M visual tokens per image, D LLM width.
 */
export class MultimodalModel extends Module {
  readonly tokensPerImage: number;

  constructor(
    readonly encoder: VisionEncoder,
    readonly connector: TokenConnector,
    readonly llm: LanguageModel,
    readonly special: SpecialIds,
  ) {
    super();
    this.add('vision_tower', encoder);
    this.add('multi_modal_projector', connector);
    this.add('language_model', llm);
    this.tokensPerImage = connector.outputTokens(encoder.numTokens);
  }

  get batchOptions(): BatchOptions {
    return { imageTokenId: this.special.imageTokenId, padId: this.special.padId, tokensPerImage: this.tokensPerImage };
  }

  /** pixels [N, H, W, C] -> visual tokens [N, M, D]. */
  encodeImages(pixels: tf.Tensor4D): tf.Tensor3D {
    return tf.tidy(() => this.connector.forward(this.encoder.encode(pixels)));
  }

  imagesToTensor(images: Float32Array[]): tf.Tensor4D {
    const s = this.encoder.imageSize;
    const flat = new Float32Array(images.length * s * s * 3);
    images.forEach((img, i) => {
      if (img.length !== s * s * 3) throw new Error(`image ${i} has ${img.length} values; the encoder takes ${s}x${s}x3 = ${s * s * 3}`);
      flat.set(img, i * s * s * 3);
    });
    return tf.tensor4d(flat, [images.length, s, s, 3]);
  }

  /** Text embeddings with each image's M tokens spliced in at its `<image>` slot: [B, T, D]. */
  embed(inputIds: number[][], images: Float32Array[], slots: ImageSlot[]): tf.Tensor3D {
    return tf.tidy(() => {
      const b = inputIds.length;
      const t = inputIds[0]!.length;
      const text = this.llm.embed(tf.tensor2d(inputIds, [b, t], 'int32')); // [B, T, D]
      if (images.length === 0) return text;
      const visual = this.encodeImages(this.imagesToTensor(images)); // [N_img, M, D]
      const isText = tf.tensor3d(inputIds.map((row) => row.map((id) => [id === this.special.imageTokenId ? 0 : 1])), [b, t, 1]);
      return text.mul(isText).add(placeImageTokens(visual, slots, b, t)) as tf.Tensor3D;
    });
  }

  /** Mean next-token loss over the trained (response) positions of a batch. */
  loss(batch: ModelBatch): tf.Scalar {
    return tf.tidy(() => {
      const embeds = this.embed(batch.inputIds, batch.images, batch.slots);
      const { logits } = this.llm.forward(embeds, { attentionMask: batch.attentionMask });
      const [b, t, v] = logits.shape;
      return maskedCrossEntropy(
        logits.reshape([b * t, v]),
        tf.tensor1d(batch.targets.flat(), 'int32'),
        tf.tensor1d(batch.weights.flat(), 'float32'),
      );
    });
  }

  collate(samples: TokenizedSample[]): ModelBatch {
    return collateTraining(samples, this.batchOptions);
  }

  /** Continues each prompt (already ending with the assistant role token) and returns the new token ids. */
  generate(prompts: TokenizedSample[], options: GenerateOptions): number[][] {
    const batch = collatePrompts(prompts, this.batchOptions);
    const embeds = this.embed(batch.inputIds, batch.images, batch.slots);
    try {
      return generateFromEmbeddings(this.llm, { embeds, attentionMask: batch.attentionMask }, options);
    } finally {
      embeds.dispose();
    }
  }
}
