import * as tf from '@tensorflow/tfjs';
import {
  MllmError,
  Module,
  maskedCrossEntropy,
  type FusionConnector,
  type LanguageModel,
  type LayerFusion,
  type TokenConnector,
  type VisionEncoder,
} from '@mllm/core';
import { generateFromEmbeddings, type GenerateOptions } from '@mllm/llm';
import { collatePrompts, collateTraining, type BatchOptions, type ModelBatch, type TokenizedSample } from './batch';
import { placeImageTokens, type ImageSlot } from './splice';

export interface SpecialIds {
  imageTokenId: number;
  padId: number;
}

/**
 * Encoder + connector + LLM. With a token-level connector this is LLaVA (arXiv:2304.08485): M
 * visual tokens are spliced in at each `<image>`. With a fusion connector it is Flamingo-shaped
 * (arXiv:2204.14198): `<image>` stays one text token marking where the image sits, and the
 * encoder features reach the LLM through its fusion plug point instead. Parameter names follow
 * HF LlavaForConditionalGeneration: `vision_tower`, `multi_modal_projector`, `language_model`.
 * Shapes: B batch, T tokens, N patches, M visual tokens per image, D LLM width.
 */
export class MultimodalModel extends Module {
  readonly tokensPerImage: number;

  constructor(
    readonly encoder: VisionEncoder,
    readonly connector: TokenConnector | FusionConnector,
    readonly llm: LanguageModel,
    readonly special: SpecialIds,
  ) {
    super();
    this.add('vision_tower', encoder);
    this.add('multi_modal_projector', connector);
    this.add('language_model', llm);
    this.tokensPerImage = connector.kind === 'fusion-connector' ? 1 : connector.outputTokens(encoder.numTokens);
  }

  get batchOptions(): BatchOptions {
    return { imageTokenId: this.special.imageTokenId, padId: this.special.padId, tokensPerImage: this.tokensPerImage };
  }

  /** pixels [N, H, W, C] -> visual tokens [N, M, D] (token-level connectors only). */
  encodeImages(pixels: tf.Tensor4D): tf.Tensor3D {
    const connector = this.connector;
    if (connector.kind === 'fusion-connector')
      throw new MllmError('encodeImages: a fusion connector makes no visual tokens; its features reach the LLM through fusionFor()');
    return tf.tidy(() => connector.forward(this.encoder.encode(pixels)));
  }

  /**
   * The fusion connector bound to a batch's images, for `LmForwardOptions.fusion`; undefined
   * with a token-level connector. The caller owns the result (`dispose`, or a surrounding tidy).
   */
  fusionFor(images: Float32Array[], slots: ImageSlot[], batchSize: number): LayerFusion | undefined {
    const connector = this.connector;
    if (connector.kind !== 'fusion-connector') return undefined;
    const features = tf.tidy(() => (images.length ? this.encoder.encode(this.imagesToTensor(images)) : tf.zeros([0, this.encoder.numTokens, this.encoder.outputDim]))) as tf.Tensor3D;
    try {
      return connector.bind(features, slots, batchSize); // [N_img, N, D_enc] -> hooks
    } finally {
      features.dispose();
    }
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

  /**
   * Text embeddings with each image's M tokens spliced in at its `<image>` slot: [B, T, D].
   * With a fusion connector, text embeddings only: `<image>` is embedded as the text token it is.
   */
  embed(inputIds: number[][], images: Float32Array[], slots: ImageSlot[]): tf.Tensor3D {
    return tf.tidy(() => {
      const b = inputIds.length;
      const t = inputIds[0]!.length;
      const text = this.llm.embed(tf.tensor2d(inputIds, [b, t], 'int32')); // [B, T, D]
      if (images.length === 0 || this.connector.kind === 'fusion-connector') return text;
      const visual = this.encodeImages(this.imagesToTensor(images)); // [N_img, M, D]
      const isText = tf.tensor3d(inputIds.map((row) => row.map((id) => [id === this.special.imageTokenId ? 0 : 1])), [b, t, 1]);
      return text.mul(isText).add(placeImageTokens(visual, slots, b, t)) as tf.Tensor3D;
    });
  }

  /** Next-token logits [B, T, V] of a collated batch, whichever kind the connector is. */
  forward(batch: Pick<ModelBatch, 'inputIds' | 'attentionMask' | 'images' | 'slots'>): tf.Tensor3D {
    return tf.tidy(() => {
      const embeds = this.embed(batch.inputIds, batch.images, batch.slots); // [B, T, D]
      const fusion = this.fusionFor(batch.images, batch.slots, batch.inputIds.length);
      return this.llm.forward(embeds, { attentionMask: batch.attentionMask, fusion }).logits;
    });
  }

  /** Mean next-token loss over the trained (response) positions of a batch. */
  loss(batch: ModelBatch): tf.Scalar {
    return tf.tidy(() => {
      const logits = this.forward(batch);
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
    const fusion = this.fusionFor(batch.images, batch.slots, batch.inputIds.length);
    try {
      return generateFromEmbeddings(this.llm, { embeds, attentionMask: batch.attentionMask, fusion }, options);
    } finally {
      embeds.dispose();
      fusion?.dispose();
    }
  }
}
