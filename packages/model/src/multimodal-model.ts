import * as tf from '@tensorflow/tfjs';
import {
  MllmError,
  Module,
  maskedCrossEntropy,
  moeStats,
  type MoeAux,
  type FusionConnector,
  type LanguageModel,
  type LayerFusion,
  type TokenConnector,
  type VisionEncoder,
} from '@mllm/core';
import { generateFromEmbeddings, resolveGenerateOptions, type GenerateOptions, type GenerationEvent, type GenerationPrompt } from '@mllm/llm';
import { generationSteps, streamSteps } from '@mllm/llm/internal';
import { collatePrompts, collateTraining, prefixLengthsFromWeights, type BatchOptions, type ModelBatch, type TokenizedSample } from './batch';
import { placeImageTokens, type ImageSlot } from './splice';
import { imageInput, type ModelImage } from './image-input';
import { diffusionNoised, type DiffusionNoise } from './image-distortion';
import { checkImageAttention, imageKeyPositions, splitGenerateOptions, type MultimodalGenerateOptions } from './multimodal-generate-options';

/** Images of one canvas shape (their indices in the batch) and their encoder features [n_g, N_g, D_enc]. */
interface EncodedGroup {
  indices: number[];
  features: tf.Tensor3D;
}

function disposeGroups(groups: EncodedGroup[]): void {
  for (const g of groups) g.features.dispose();
}

/** Frees an MoE forward's auxiliary tensors that no loss is going to use. */
export function disposeAux(aux: MoeAux | undefined): void {
  if (!aux) return;
  aux.loss.dispose();
  aux.balance.dispose();
  aux.zLoss?.dispose();
}

/**
 * A training loss plus an MoE LLM's weighted auxiliary loss (Mixtral: loss += coef * aux_loss),
 * its routing statistics written into `stats` (`moe/expert_k`, `moe/dropped`, ...). Without
 * `aux` (a dense LLM) the loss is returned as it is.
 */
export function withAuxLoss(loss: tf.Scalar, aux: MoeAux | undefined, stats?: Record<string, number>): tf.Scalar {
  if (!aux) return loss;
  if (stats) Object.assign(stats, moeStats(aux));
  return loss.add(aux.loss) as tf.Scalar;
}

/** What a forward reads of a batch; `weights` or `prefixLengths` give a prefix-reading LLM its prefixes. */
export type ForwardBatch = Pick<ModelBatch, 'inputIds' | 'attentionMask' | 'images' | 'slots'> & Partial<Pick<ModelBatch, 'weights' | 'prefixLengths'>>;

/** A slot's validated config: its registry `type` and the options its factory was given. */
export type ComponentConfig = { type: string } & Record<string, unknown>;

/** The config each part of a model was built from, by slot. */
export interface ComponentConfigs {
  encoder: ComponentConfig;
  connector: ComponentConfig;
  llm: ComponentConfig;
}

/** The token ids the model itself needs: where `<image>` stands and what pads a batch (a tokenizer's full set is @mllm/tokenizer's SpecialIds). */
export interface ModelTokenIds {
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
  /**
   * Where forwards get encoder features while set, instead of `encodeFeatures`: a training stage
   * with a frozen encoder sets a per-image cache filled outside the gradient scope (@mllm/training's
   * FrozenFeatures). It must return what `encodeFeatures` would; the caller disposes the result.
   */
  featureSource?: { features(images: ModelImage[]): tf.Tensor3D };

  constructor(
    readonly encoder: VisionEncoder,
    readonly connector: TokenConnector | FusionConnector,
    readonly llm: LanguageModel,
    readonly special: ModelTokenIds,
    /**
     * Each slot's validated config as built, so other subsystems look a part up by its registry
     * `type` (the ONNX export's exporters) instead of by its class. buildModel records it.
     */
    readonly componentConfigs?: ComponentConfigs,
  ) {
    super();
    this.add('vision_tower', encoder);
    this.add('multi_modal_projector', connector);
    this.add('language_model', llm);
    // a fusion connector that makes no tokens (Flamingo) leaves `<image>` as one text token
    this.tokensPerImage = connector.outputTokens?.(encoder.numTokens) ?? 1;
  }

  get batchOptions(): BatchOptions {
    return { imageTokenId: this.special.imageTokenId, padId: this.special.padId, tokensPerImage: this.tokensPerImage, tokensFor: (image) => this.tokensFor(image) };
  }

  /**
   * Visual tokens M of one image: tokensPerImage for the square canvas (a bare Float32Array),
   * else what the encoder makes of that canvas (a tiled encoder's other grids) through the connector.
   */
  tokensFor(image: ModelImage): number {
    const s = this.encoder.imageSize;
    const { width, height } = imageInput(image, s);
    if (width === s && height === s) return this.tokensPerImage;
    if (!this.encoder.tokensForCanvas)
      throw new MllmError(`a ${width}x${height} image, but this encoder takes only ${s}x${s} images; preprocess images to ${s}x${s}, or give the encoder highRes tiles to take other aspect ratios`);
    return this.connector.outputTokens?.(this.encoder.tokensForCanvas(height, width)) ?? 1;
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
  fusionFor(images: ModelImage[], slots: ImageSlot[], batchSize: number): LayerFusion | undefined {
    if (this.connector.kind !== 'fusion-connector') return undefined;
    const groups = this.encodeGroups(images);
    try {
      return this.bindFeatures(groups, images, slots, batchSize);
    } finally {
      disposeGroups(groups);
    }
  }

  /**
   * A batch's images grouped by canvas shape (first-seen order), each group encoded in one call:
   * features [n_g, N_g, D_enc]. One group, in image order, when all images share a shape.
   * The caller disposes the features.
   */
  private encodeGroups(images: ModelImage[]): EncodedGroup[] {
    const s = this.encoder.imageSize;
    const byShape = new Map<string, number[]>();
    images.forEach((image, i) => {
      const { width, height } = imageInput(image, s);
      const key = `${width}x${height}`;
      const group = byShape.get(key);
      if (group) group.push(i);
      else byShape.set(key, [i]);
    });
    return [...byShape.values()].map((indices) => {
      const group = indices.map((i) => images[i]!);
      return { indices, features: this.featureSource ? this.featureSource.features(group) : this.encodeFeatures(group) };
    });
  }

  /** Encoder features [n, N, D_enc] of images of one canvas shape, straight from the encoder. */
  encodeFeatures(images: ModelImage[]): tf.Tensor3D {
    return tf.tidy(() => this.encoder.encode(this.imagesToTensor(images)));
  }

  /** Encoder features [N_img, N, D_enc] for a fusion connector, which takes one canvas shape per batch; [0, N, D_enc] with no images. */
  private fusionFeatures(groups: EncodedGroup[], images: ModelImage[]): tf.Tensor3D {
    if (groups.length > 1) {
      const shapes = groups.map((g) => {
        const { width, height } = imageInput(images[g.indices[0]!]!, this.encoder.imageSize);
        return `${width}x${height}`;
      });
      throw new MllmError(
        `a fusion connector takes images of one canvas shape per batch, got ${shapes.join(', ')}; batch images of one shape together, preprocess them all to one canvas, or use a token-level connector (mlp, linear, qformer, ...)`,
      );
    }
    return groups[0]?.features ?? (tf.zeros([0, this.encoder.numTokens, this.encoder.outputDim]) as tf.Tensor3D);
  }

  private bindFeatures(groups: EncodedGroup[], images: ModelImage[], slots: ImageSlot[], batchSize: number): LayerFusion | undefined {
    const connector = this.connector;
    if (connector.kind !== 'fusion-connector') return undefined;
    const features = this.fusionFeatures(groups, images);
    try {
      return connector.bind(features, slots, batchSize); // [N_img, N, D_enc] -> hooks
    } finally {
      if (groups.length === 0) features.dispose(); // the empty batch's zeros; groups' features are their owner's
    }
  }

  /** Images of one canvas shape as pixels [N, H, W, 3]; a bare Float32Array is imageSize x imageSize. */
  imagesToTensor(images: ModelImage[]): tf.Tensor4D {
    const s = this.encoder.imageSize;
    const shaped = images.map((image) => imageInput(image, s));
    const { width, height } = shaped[0] ?? { width: s, height: s };
    const size = width * height * 3;
    const flat = new Float32Array(images.length * size);
    shaped.forEach((img, i) => {
      if (img.width !== width || img.height !== height)
        throw new MllmError(`imagesToTensor: image ${i} is ${img.width}x${img.height} but image 0 is ${width}x${height}; one call takes one canvas shape`);
      if (img.pixels.length !== size) throw new Error(`image ${i} has ${img.pixels.length} values; a ${width}x${height} RGB image has ${height}x${width}x3 = ${size}`);
      flat.set(img.pixels, i * size);
    });
    return tf.tensor4d(flat, [images.length, height, width, 3]);
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
  embed(inputIds: number[][], images: ModelImage[], slots: ImageSlot[]): tf.Tensor3D {
    if (images.length === 0 || !this.splicesTokens) return this.embedFeatures(inputIds, [], images, slots);
    const groups = this.encodeGroups(images);
    try {
      return this.embedFeatures(inputIds, groups, images, slots);
    } finally {
      disposeGroups(groups);
    }
  }

  private embedFeatures(inputIds: number[][], groups: EncodedGroup[], images: ModelImage[], slots: ImageSlot[]): tf.Tensor3D {
    return tf.tidy(() => {
      const b = inputIds.length;
      const t = inputIds[0]!.length;
      const text = this.llm.embed(tf.tensor2d(inputIds, [b, t], 'int32')); // [B, T, D]
      if (groups.length === 0 || !this.splicesTokens) return text;
      if (slots.length !== images.length) throw new MllmError(`${images.length} images but ${slots.length} <image> slots; each <image> needs exactly one image`);
      if (this.connector.kind === 'fusion-connector') this.fusionFeatures(groups, images); // one shape, or its error
      // each group's tokens [n_g, M_g, D] one after another; the slots are put in the same order
      const visual = groups.map((g) => this.tokensOf(g.features));
      groups.forEach((g, k) => {
        const expected = this.tokensFor(images[g.indices[0]!]!);
        if (visual[k]!.shape[1] !== expected) throw new MllmError(`an image's connector made ${visual[k]!.shape[1]} tokens but batching expanded its <image> to ${expected}`);
      });
      const d = text.shape[2];
      const tokens = tf.concat(visual.map((v) => v.reshape([-1, d]) as tf.Tensor2D), 0); // [sum M_i, D]
      const order = groups.flatMap((g) => g.indices);
      const lengths = groups.flatMap((g, k) => g.indices.map(() => visual[k]!.shape[1]));
      const isText = tf.tensor3d(inputIds.map((row) => row.map((id) => [id === this.special.imageTokenId ? 0 : 1])), [b, t, 1]);
      return text.mul(isText).add(placeImageTokens(tokens, order.map((i) => slots[i]!), b, t, lengths)) as tf.Tensor3D;
    });
  }

  /** Next-token logits [B, T, V] of a collated batch, whichever kind the connector is. */
  forward(batch: ForwardBatch): tf.Tensor3D {
    const { logits, hidden, aux } = this.forwardWithHidden(batch);
    hidden.dispose();
    disposeAux(aux);
    return logits;
  }

  /**
   * Logits [B, T, V] and the LLM's last hidden states [B, T, D] (after its final norm), which
   * scalar heads read: a reward model's score, PPO's value estimate. An MoE LLM adds `aux`, its
   * weighted auxiliary loss (a training loss adds it: `withAuxLoss`) and routing statistics.
   */
  forwardWithHidden(batch: ForwardBatch): { logits: tf.Tensor3D; hidden: tf.Tensor3D; aux?: MoeAux } {
    return tf.tidy(() => {
      // encoded once, for both the spliced tokens and the fusion hooks
      const groups = this.encodeGroups(batch.images); // features [n_g, N_g, D_enc] per canvas shape
      const embeds = this.embedFeatures(batch.inputIds, groups, batch.images, batch.slots); // [B, T, D]
      const fusion = this.bindFeatures(groups, batch.images, batch.slots, batch.inputIds.length);
      return this.llm.forward(embeds, { attentionMask: batch.attentionMask, fusion, prefixLengths: this.prefixLengthsOf(batch) });
    });
  }

  /** The batch's prefix lengths when the LLM reads them (prefix LM, encoder-decoder); from its weights if it carries none. */
  private prefixLengthsOf(batch: ForwardBatch): number[] | undefined {
    if (!this.llm.needsPrefix) return undefined;
    return batch.prefixLengths ?? (batch.weights ? prefixLengthsFromWeights(batch.weights) : undefined);
  }

  /**
   * Mean next-token loss over the trained (response) positions of a batch, plus an MoE LLM's
   * weighted auxiliary loss; `stats`, when given, receives its routing statistics.
   */
  loss(batch: ModelBatch, stats?: Record<string, number>): tf.Scalar {
    return tf.tidy(() => {
      const { logits, hidden, aux } = this.forwardWithHidden(batch);
      hidden.dispose();
      const [b, t, v] = logits.shape;
      const lm = maskedCrossEntropy(
        logits.reshape([b * t, v]),
        tf.tensor1d(batch.targets.flat(), 'int32'),
        tf.tensor1d(batch.weights.flat(), 'float32'),
      );
      return withAuxLoss(lm, aux, stats);
    });
  }

  collate(samples: TokenizedSample[]): ModelBatch {
    return collateTraining(samples, this.batchOptions);
  }

  /** Continues each prompt (already ending with the assistant role token) and returns the new token ids. */
  generate(prompts: TokenizedSample[], options: MultimodalGenerateOptions): number[][] {
    const { llmOptions, noise } = this.checkedGenerateOptions(options);
    const { prompt, dispose } = this.generationPrompt(prompts, noise);
    try {
      return generateFromEmbeddings(this.llm, prompt, llmOptions);
    } finally {
      dispose();
    }
  }

  /**
   * `generate`, streamed: each row's tokens (and text, with `options.decode`) as they are made, then
   * its `end` event. Options are checked at the call; the images are encoded at the first `next()`.
   */
  generateStream(prompts: TokenizedSample[], options: MultimodalGenerateOptions): AsyncGenerator<GenerationEvent, void, undefined> {
    const { llmOptions, noise } = this.checkedGenerateOptions(options);
    resolveGenerateOptions(llmOptions, this.llm.vocabSize);
    return streamSteps(this.generationEvents(prompts, llmOptions, noise));
  }

  private *generationEvents(prompts: TokenizedSample[], options: GenerateOptions, noise: DiffusionNoise | undefined): Generator<GenerationEvent[], void, undefined> {
    const { prompt, dispose } = this.generationPrompt(prompts, noise);
    try {
      yield* generationSteps(this.llm, prompt, options);
    } finally {
      dispose();
    }
  }

  /** The LLM's options and VCD's noise, after refusing a boost of image tokens a fusion connector does not make. */
  private checkedGenerateOptions(options: MultimodalGenerateOptions): { llmOptions: GenerateOptions; noise: DiffusionNoise | undefined } {
    checkImageAttention(options, this.splicesTokens, this.connector.kind);
    return splitGenerateOptions(options);
  }

  /**
   * Prompt embeddings (images spliced in), fusion hooks and ids of a batch of prompts, for
   * decoding; with `noise`, also the same prompts with VCD's noised images as `contrast`.
   */
  private generationPrompt(prompts: TokenizedSample[], noise?: DiffusionNoise): { prompt: GenerationPrompt; dispose: () => void } {
    const batch = collatePrompts(prompts, this.batchOptions);
    const inputs = (images: ModelImage[]) => {
      const groups = this.encodeGroups(images);
      try {
        return { embeds: this.embedFeatures(batch.inputIds, groups, images, batch.slots), fusion: this.bindFeatures(groups, images, batch.slots, batch.inputIds.length) };
      } finally {
        disposeGroups(groups);
      }
    };
    const real = inputs(batch.images);
    const prefixLengths = this.prefixLengthsOf(batch);
    // where each row's image tokens sit, for PAI's image-attention boost
    const imageKeys = this.splicesTokens ? imageKeyPositions(batch.inputIds.length, batch.slots, batch.images.map((image) => this.tokensFor(image))) : batch.inputIds.map(() => []);
    let distorted: ReturnType<typeof inputs> | undefined;
    try {
      if (noise) distorted = inputs(diffusionNoised(batch.images, noise, this.encoder.pixelNormalization));
    } catch (e) {
      real.embeds.dispose();
      real.fusion?.dispose();
      throw e;
    }
    return {
      prompt: {
        embeds: real.embeds,
        attentionMask: batch.attentionMask,
        inputIds: batch.inputIds,
        fusion: real.fusion,
        prefixLengths,
        imageKeys,
        ...(distorted && { contrast: { embeds: distorted.embeds, attentionMask: batch.attentionMask, fusion: distorted.fusion, prefixLengths } }),
      },
      dispose: () => {
        for (const part of [real, distorted]) {
          part?.embeds.dispose();
          part?.fusion?.dispose();
        }
      },
    };
  }
}
