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
 * visual tokens are spliced in at each `<image>`. With a fusion connector the encoder features
 * reach the LLM through its fusion plug points; `<image>` stays one text token marking where the
 * image sits (Flamingo, arXiv:2204.14198; LLaMA-Adapter), unless the connector also makes tokens
 * (CogVLM's visual expert), which are then spliced as LLaVA's are. Parameter names follow
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
    // a fusion connector that makes no tokens (Flamingo) leaves `<image>` as one text token
    this.tokensPerImage = connector.outputTokens?.(encoder.numTokens) ?? 1;
  }

  get batchOptions(): BatchOptions {
    return { imageTokenId: this.special.imageTokenId, padId: this.special.padId, tokensPerImage: this.tokensPerImage };
  }

  /** pixels [N, H, W, C] -> visual tokens [N, M, D] (token-level connectors, and fusion connectors that also make tokens). */
  encodeImages(pixels: tf.Tensor4D): tf.Tensor3D {
    return tf.tidy(() => this.tokensOf(this.encoder.encode(pixels)));
  }

  /** features [N, N_enc, D_enc] -> visual tokens [N, M, D]. */
  private tokensOf(features: tf.Tensor3D): tf.Tensor3D {
    const connector = this.connector;
    if (connector.kind === 'token-connector') return connector.forward(features);
    if (!connector.embedImages)
      throw new MllmError('encodeImages: this fusion connector makes no visual tokens; its features reach the LLM through fusionFor()');
    return connector.embedImages(features);
  }

  /**
   * The fusion connector bound to a batch's images, for `LmForwardOptions.fusion`; undefined
   * with a token-level connector. The caller owns the result (`dispose`, or a surrounding tidy).
   */
  fusionFor(images: Float32Array[], slots: ImageSlot[], batchSize: number): LayerFusion | undefined {
    if (this.connector.kind !== 'fusion-connector') return undefined;
    const features = this.features(images);
    try {
      return this.bindFeatures(features, slots, batchSize);
    } finally {
      features.dispose();
    }
  }

  /** Encoder features [N_img, N, D_enc] of a batch's images; [0, N, D_enc] when it has none. */
  private features(images: Float32Array[]): tf.Tensor3D {
    return tf.tidy(() => (images.length ? this.encoder.encode(this.imagesToTensor(images)) : tf.zeros([0, this.encoder.numTokens, this.encoder.outputDim]))) as tf.Tensor3D;
  }

  private bindFeatures(features: tf.Tensor3D, slots: ImageSlot[], batchSize: number): LayerFusion | undefined {
    const connector = this.connector;
    return connector.kind === 'fusion-connector' ? connector.bind(features, slots, batchSize) : undefined; // [N_img, N, D_enc] -> hooks
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

  /** True when images enter the sequence as tokens (token-level connectors, CogVLM's visual expert). */
  private get splicesTokens(): boolean {
    const connector = this.connector;
    return connector.kind === 'token-connector' || connector.embedImages !== undefined;
  }

  /**
   * Text embeddings with each image's M tokens spliced in at its `<image>` slot: [B, T, D].
   * With a fusion connector that makes no tokens, text embeddings only: `<image>` is embedded
   * as the text token it is.
   */
  embed(inputIds: number[][], images: Float32Array[], slots: ImageSlot[]): tf.Tensor3D {
    if (images.length === 0 || !this.splicesTokens) return this.embedFeatures(inputIds, undefined, slots);
    const features = this.features(images);
    try {
      return this.embedFeatures(inputIds, features, slots);
    } finally {
      features.dispose();
    }
  }

  private embedFeatures(inputIds: number[][], features: tf.Tensor3D | undefined, slots: ImageSlot[]): tf.Tensor3D {
    return tf.tidy(() => {
      const b = inputIds.length;
      const t = inputIds[0]!.length;
      const text = this.llm.embed(tf.tensor2d(inputIds, [b, t], 'int32')); // [B, T, D]
      if (!features || features.shape[0] === 0 || !this.splicesTokens) return text;
      const visual = this.tokensOf(features); // [N_img, M, D]
      const isText = tf.tensor3d(inputIds.map((row) => row.map((id) => [id === this.special.imageTokenId ? 0 : 1])), [b, t, 1]);
      return text.mul(isText).add(placeImageTokens(visual, slots, b, t)) as tf.Tensor3D;
    });
  }

  /** Next-token logits [B, T, V] of a collated batch, whichever kind the connector is. */
  forward(batch: Pick<ModelBatch, 'inputIds' | 'attentionMask' | 'images' | 'slots'>): tf.Tensor3D {
    const { logits, hidden } = this.forwardWithHidden(batch);
    hidden.dispose();
    return logits;
  }

  /**
   * Logits [B, T, V] and the LLM's last hidden states [B, T, D] (after its final norm), which
   * scalar heads read: a reward model's score, PPO's value estimate.
   */
  forwardWithHidden(batch: Pick<ModelBatch, 'inputIds' | 'attentionMask' | 'images' | 'slots'>): { logits: tf.Tensor3D; hidden: tf.Tensor3D } {
    return tf.tidy(() => {
      // encoded once, for both the spliced tokens and the fusion hooks
      const features = this.features(batch.images); // [N_img, N, D_enc]
      const embeds = this.embedFeatures(batch.inputIds, features, batch.slots); // [B, T, D]
      const fusion = this.bindFeatures(features, batch.slots, batch.inputIds.length);
      return this.llm.forward(embeds, { attentionMask: batch.attentionMask, fusion });
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
    const features = this.features(batch.images);
    const embeds = this.embedFeatures(batch.inputIds, features, batch.slots);
    const fusion = this.bindFeatures(features, batch.slots, batch.inputIds.length);
    features.dispose();
    try {
      return generateFromEmbeddings(this.llm, { embeds, attentionMask: batch.attentionMask, fusion }, options);
    } finally {
      embeds.dispose();
      fusion?.dispose();
    }
  }
}
