import * as tf from '@tensorflow/tfjs';
import {
  Embedding,
  LayerNorm,
  Linear,
  Module,
  ModuleGroup,
  ModuleList,
  TransformerBlock,
  buildAttentionMask,
  maskedCrossEntropy,
  normalInit,
  type Rng,
} from '@mllm/core';

export interface ClipHeadConfig {
  vocabSize: number;
  imageDim: number;
  textDim: number;
  textLayers: number;
  textHeads: number;
  projectionDim: number;
  maxLength: number;
}

/**
 * The text tower and projections that CLIP pre-training needs next to the vision encoder
 * (HF CLIPModel names: `text_model`, `text_projection`, `visual_projection`, `logit_scale`).
 * Radford et al., arXiv:2103.00020. Shapes: B batch, L text length, P projection width.
 */
export class ClipHead extends Module {
  readonly tokenEmbedding: Embedding;
  readonly positionEmbedding: tf.Variable;
  readonly blocks: readonly TransformerBlock[];
  readonly finalNorm: LayerNorm;
  readonly textProjection: Linear;
  readonly visualProjection: Linear;
  readonly logitScale: tf.Variable;

  constructor(readonly config: ClipHeadConfig, rng: Rng) {
    super();
    const { textDim } = config;
    this.tokenEmbedding = new Embedding(config.vocabSize, textDim, rng);
    const embeddings = new ModuleGroup({ token_embedding: this.tokenEmbedding });
    this.blocks = Array.from(
      { length: config.textLayers },
      () => new TransformerBlock({ dim: textDim, numHeads: config.textHeads, mlpHidden: 4 * textDim, style: 'clip' }, rng),
    );
    this.finalNorm = new LayerNorm(textDim);
    this.add('text_model', new ModuleGroup({ embeddings, encoder: new ModuleGroup({ layers: new ModuleList(this.blocks) }), final_layer_norm: this.finalNorm }));
    this.positionEmbedding = this.param('text_position_embedding', normalInit(rng, [config.maxLength, textDim], 0.01));
    this.textProjection = this.add('text_projection', new Linear(textDim, config.projectionDim, rng, { bias: false }));
    this.visualProjection = this.add('visual_projection', new Linear(config.imageDim, config.projectionDim, rng, { bias: false }));
    this.logitScale = this.param('logit_scale', tf.scalar(Math.log(1 / 0.07)));
  }

  /**
   * Texts as the tower's input: each encoded, cut to `maxLength` with its end-of-text token kept
   * last, as CLIP's tokenizer truncates (`truncate=True` / HF `truncation=True`, 77 tokens
   * there), and right-padded to the longest. A caption a small BPE vocabulary spells in more
   * tokens than the tower has positions is read by its first ones, never refused.
   */
  textBatch(texts: readonly string[], tokenizer: { encode(text: string): number[]; special: { eos: number; pad: number } }): { ids: number[][]; lengths: number[] } {
    const rows = texts.map((t) => [...tokenizer.encode(t).slice(0, this.config.maxLength - 1), tokenizer.special.eos]);
    const width = Math.max(...rows.map((r) => r.length));
    return { ids: rows.map((r) => [...r, ...new Array<number>(width - r.length).fill(tokenizer.special.pad)]), lengths: rows.map((r) => r.length) };
  }

  /** ids [B, L] right-padded (textBatch), lengths per row -> text embeddings [B, P] from the last real token (CLIP's EOS pooling). */
  encodeText(ids: number[][], lengths: number[]): tf.Tensor2D {
    return tf.tidy(() => {
      const [b, l] = [ids.length, ids[0]!.length];
      if (l > this.config.maxLength) throw new Error(`caption of ${l} tokens exceeds the text tower's maxLength ${this.config.maxLength}`);
      let h = this.tokenEmbedding.forward(tf.tensor2d(ids, [b, l], 'int32')).add(this.positionEmbedding.slice([0, 0], [l, -1])) as tf.Tensor3D;
      const mask = buildAttentionMask(b, l, { pattern: 'causal', keyMask: ids.map((row, i) => row.map((_, t) => (t < lengths[i]! ? 1 : 0))) });
      for (const block of this.blocks) h = block.forward(h, { mask }).out;
      h = this.finalNorm.forward(h);
      const pick = tf.oneHot(tf.tensor1d(lengths.map((n) => n - 1), 'int32'), l).toFloat().reshape([b, l, 1]);
      return this.textProjection.forward(h.mul(pick).sum(1) as tf.Tensor2D);
    });
  }

  /** Symmetric InfoNCE over the B x B image-text similarities; pair i is the positive for row and column i. */
  contrastiveLoss(imagePooled: tf.Tensor2D, textEmbeds: tf.Tensor2D): tf.Scalar {
    return tf.tidy(() => {
      const img = l2normalize(this.visualProjection.forward(imagePooled));
      const txt = l2normalize(textEmbeds);
      const scale = this.logitScale.clipByValue(0, Math.log(100)).exp();
      const logits = tf.matMul(img, tf.transpose(txt)).mul(scale) as tf.Tensor2D; // [B, B]
      const b = logits.shape[0];
      const targets = tf.range(0, b, 1, 'int32') as tf.Tensor1D;
      const ones = tf.ones([b]) as tf.Tensor1D;
      return maskedCrossEntropy(logits, targets, ones).add(maskedCrossEntropy(tf.transpose(logits), targets, ones)).div(2) as tf.Scalar;
    });
  }
}

function l2normalize(x: tf.Tensor2D): tf.Tensor2D {
  return x.div(x.square().sum(-1, true).add(1e-12).sqrt()) as tf.Tensor2D;
}
