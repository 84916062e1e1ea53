import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { ConfigError, Module, type ConnectorContext, type LanguageModel, type ConnectorText, type TokenConnector } from '@mllm/core';
import { EXPERT_TEXT_TOKENS, EXPERT_WORDS, renderExpertText } from './expert-text';
import { RegionDetector } from './region-detector';

export const expertBridgeSchema = z.object({ type: z.literal('expert') }).strict();
export type ExpertBridgeConfig = z.output<typeof expertBridgeSchema>;

/**
 * The survey's "expert model" alternative to a learned connector (VideoChat-Text, the
 * captioner-fed LLMs before LLaVA): an image-to-text expert, here a region detector over the
 * encoder's patch tokens, writes what it sees as a caption, and the LLM reads that caption as
 * words through its own embedding table. Nothing but words crosses: the detector's scores end
 * at an argmax, so no gradient reaches it from the LLM (the `regions` objective of encoder
 * pre-training trains it: `trainedHeads`), and whatever the words cannot say is lost.
 *
 * It is a token-level connector because that is the plug point that puts M positions of the
 * sequence where `<image>` stands; the M tokens are the LLM's embeddings of the expert's
 * EXPERT_TEXT_TOKENS words (padded), exactly what the LLM computes for the same text typed in.
 * Shapes: B images, N = G*G patch tokens, M expert tokens, D LLM width.
 */
export class ExpertBridge extends Module implements TokenConnector {
  readonly kind = 'token-connector' as const;
  readonly detector: RegionDetector;
  readonly trainedHeads: Readonly<Record<string, Module>>;

  constructor(
    inputDim: number,
    inputTokens: number,
    rng: ConnectorContext['rng'],
    /** The LLM whose words the expert writes (its embedding table); not a child: the model owns it. */
    private readonly llm: LanguageModel,
    private readonly text: ConnectorText,
  ) {
    super();
    this.detector = this.add('detector', new RegionDetector(inputDim, inputTokens, rng));
    this.trainedHeads = { regions: this.detector };
    this.detector.freeze();
  }

  outputTokens(): number {
    return EXPERT_TEXT_TOKENS;
  }

  /** features [B, N, D_enc] -> the expert's words as the LLM embeds them [B, M, D]. */
  forward(features: tf.Tensor3D): tf.Tensor3D {
    const ids = this.tokenIds(features); // [B][M], outside any gradient: the detector's argmax
    return tf.tidy(() => this.llm.embed(tf.tensor2d(ids, [ids.length, EXPERT_TEXT_TOKENS], 'int32'))); // [B, M, D]
  }

  /** What the expert writes for each image (the caption the LLM reads), unpadded. */
  describe(features: tf.Tensor3D): string[] {
    return this.detector.detect(features).map(renderExpertText);
  }

  /** The expert's words as token ids, padded to M with the tokenizer's padding id: [B][M]. */
  tokenIds(features: tf.Tensor3D): number[][] {
    return this.describe(features).map((caption) => {
      const ids = this.text.encode(caption);
      if (ids.length > EXPERT_TEXT_TOKENS) throw new Error(`the expert's caption has ${ids.length} tokens, more than its ${EXPERT_TEXT_TOKENS} positions: "${caption}"`);
      return [...ids, ...new Array<number>(EXPERT_TEXT_TOKENS - ids.length).fill(this.text.padId)];
    });
  }

  /** The detector only learns from the `regions` objective; a token stage that trains the connector leaves it as it is. */
  override unfreeze(): this {
    return this;
  }
}

/** Builds the bridge, refusing by path what it cannot work with: no tokenizer, a vocabulary without its words, an encoder without a square patch grid. */
export function buildExpertBridge(_config: ExpertBridgeConfig, ctx: ConnectorContext): ExpertBridge {
  const issue = (message: string) => new ConfigError([{ path: 'connector.type', message }]);
  if (!ctx.llm || !ctx.text) throw issue('"expert" writes words for the LLM and needs the LLM and the tokenizer; build the model with buildModel\'s `text` option (mllm run and chat pass it)');
  const unknown = ctx.text.unknownWords?.(EXPERT_WORDS.join(' ')) ?? [];
  if (unknown.length) throw issue(`"expert" writes words the tokenizer lacks (${unknown.join(', ')}); use the Shapes world's word tokenizer, whose vocabulary holds the caption grammar`);
  const grid = ctx.tokenGrid;
  const square = grid && grid.leading === 0 && grid.trailing === 0 && grid.rows === grid.columns && grid.rows % 2 === 0;
  if (!square)
    throw issue(
      `"expert" reads the 2 x 2 cells of a square patch grid with an even side and no extra tokens, but the encoder gives ${grid ? `${grid.leading} + ${grid.rows} x ${grid.columns} + ${grid.trailing}` : 'no token grid'}; use a vit whose imageSize / patchSize is even, without a CLS token or high-resolution tiles`,
    );
  return new ExpertBridge(ctx.inputDim, ctx.inputTokens, ctx.rng, ctx.llm, ctx.text);
}
