import * as tf from '@tensorflow/tfjs';
import { Rng, maskedCrossEntropy } from '@mllm/core';
import type { Scene } from '@mllm/data';
import { webCaption, wrongWebCaption } from '@mllm/data/internal';
import type { MultimodalModel } from '@mllm/model';
import { ClipHead } from './clip-head';
import { trainLoop } from './train-loop';
import type { CaptionScorerConfig } from './caption-data-schema';
import type { StageData } from './stage-data';

/** An image (by its scene) with the caption that stands beside it. */
export interface ScoredPair {
  scene: Scene;
  caption: string;
}

/**
 * The CLIP-style model that scores (image, caption) pairs for CLIP filtering: a copy of the run's
 * image encoder as it is when the filter runs (pre-trained by earlier stages, or fresh) with a
 * text tower and projections (ClipHead), trained contrastively, then asked for the cosine
 * similarity of the normalised image and text embeddings, the score LAION thresholds (0.3 for LAION-400M, 0.28 for LAION-5B).
 * It lives beside the run's model and is disposed after scoring: the run's weights never see it.
 */
export class CaptionScorer {
  private readonly head: ClipHead;

  /** `copy` is the scorer's own model (its encoder is the image tower); the scorer disposes it. */
  constructor(
    private readonly copy: MultimodalModel,
    private readonly data: StageData,
    private readonly config: CaptionScorerConfig,
  ) {
    const dim = copy.encoder.outputDim;
    const rng = new Rng(data.seed).fork('captions:scorer-init');
    this.head = new ClipHead({ vocabSize: data.tokenizer.vocabSize, imageDim: dim, textDim: dim, textLayers: config.textLayers, textHeads: 4, projectionDim: config.projectionDim, maxLength: 64 }, rng);
  }

  /**
   * Trains encoder and text tower on `pairs` (the clean set with a fresh alt-text per draw, or
   * the pool's own captions), with NegCLIP hard negatives when asked. Returns the last loss.
   */
  async train(pairs: readonly ScoredPair[], options: { freshCaptions: boolean }): Promise<number> {
    const { config, copy } = this;
    copy.freeze();
    copy.encoder.unfreeze();
    copy.train();
    const params: [string, tf.Variable][] = [...copy.trainableParameters(), ...this.head.namedParameters()];
    const stream = new Rng(this.data.seed).fork('captions:scorer');
    const { lastLoss, optimizer } = await trainLoop({
      params,
      optim: { steps: config.steps, lr: config.lr, warmup: config.warmup, minLrRatio: 0.1, weightDecay: 0.01, clipNorm: 1 },
      lossAt: (step) => {
        const rng = stream.fork(`step${step}`);
        const batch = Array.from({ length: config.batchSize }, () => pairs[rng.int(pairs.length)]!);
        const texts = batch.map((p) => (options.freshCaptions ? webCaption(p.scene, rng) : p.caption));
        const negatives = config.hardNegatives ? batch.map((p) => wrongWebCaption(p.scene, rng).caption) : [];
        const images = batch.map((p) => this.data.world.image(p.scene.id));
        return { tokens: batch.length, images: batch.length, loss: () => this.loss(images, [...texts, ...negatives]) };
      },
    });
    optimizer.dispose();
    copy.eval();
    return lastLoss;
  }

  /**
   * InfoNCE over B images and T >= B texts, text i the positive of image i; texts past B are
   * hard negatives, in the image-to-text direction only (they have no image of their own).
   */
  private loss(images: Float32Array[], texts: string[]): tf.Scalar {
    return tf.tidy(() => {
      const b = images.length;
      const img = this.embedImages(images); // [B, P]
      const txt = this.embedTexts(texts); // [T, P]
      const scale = this.head.logitScale.clipByValue(0, Math.log(100)).exp();
      const logits = tf.matMul(img, txt, false, true).mul(scale) as tf.Tensor2D; // [B, T]
      const targets = tf.range(0, b, 1, 'int32') as tf.Tensor1D;
      const ones = tf.ones([b]) as tf.Tensor1D;
      const imageToText = maskedCrossEntropy(logits, targets, ones);
      const textToImage = maskedCrossEntropy(tf.transpose(logits.slice([0, 0], [b, b])) as tf.Tensor2D, targets, ones);
      return imageToText.add(textToImage).div(2) as tf.Scalar;
    });
  }

  /** Cosine similarity of each pair's normalised image and text embeddings, in [-1, 1]. */
  score(pairs: readonly ScoredPair[], batchSize = 100): number[] {
    const out: number[] = [];
    for (let i = 0; i < pairs.length; i += batchSize) {
      const chunk = pairs.slice(i, i + batchSize);
      const cos = tf.tidy(() => {
        const img = this.embedImages(chunk.map((p) => this.data.world.image(p.scene.id)));
        const txt = this.embedTexts(chunk.map((p) => p.caption));
        return img.mul(txt).sum(-1);
      });
      out.push(...cos.dataSync());
      cos.dispose();
    }
    return out;
  }

  private embedImages(images: Float32Array[]): tf.Tensor2D {
    return l2normalize(this.head.visualProjection.forward(this.copy.encoder.pooled(this.copy.imagesToTensor(images))));
  }

  private embedTexts(texts: string[]): tf.Tensor2D {
    const { ids, lengths } = this.head.textBatch(texts, this.data.tokenizer);
    return l2normalize(this.head.encodeText(ids, lengths));
  }

  dispose(): void {
    this.head.dispose();
    this.copy.dispose();
  }
}

function l2normalize(x: tf.Tensor2D): tf.Tensor2D {
  return x.div(x.square().sum(-1, true).add(1e-12).sqrt()) as tf.Tensor2D;
}
