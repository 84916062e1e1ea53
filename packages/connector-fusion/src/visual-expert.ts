import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import {
  ConfigError,
  Module,
  ModuleGroup,
  type FusionConnector,
  type FusionPoint,
  type FusionStep,
  type LanguageModel,
  type LayerFusion,
  type MediaSlot,
  type Rng,
  type TokenConnector,
} from '@mllm/core';
import { VisualExpertLayer } from './visual-expert-layer';

// Shapes: B batch, T tokens, I images in the batch, N feature tokens per image, M visual tokens per image, D LLM width.

export const visualExpertSchema = z
  .object({
    type: z.literal('visual-expert'),
    /**
     * The token-level connector that turns each image into M tokens in the sequence, any type
     * the registry's `connectors` slot holds (CogVLM's is a 2-layer MLP, as LLaVA-1.5's).
     */
    projection: z
      .looseObject({ type: z.string({ error: 'projection needs a "type": a token-level connector such as "mlp" or "linear"' }) })
      .default({ type: 'mlp', depth: 2 }),
  })
  .strict();

export type VisualExpertConfig = z.output<typeof visualExpertSchema>;

/** HF Llama names of the text weights each expert starts as a copy of, by expert parameter name. */
const COPIED = ['self_attn.q_proj', 'self_attn.k_proj', 'self_attn.v_proj', 'mlp.gate_proj', 'mlp.up_proj', 'mlp.down_proj'] as const;
const llmName = (layer: number, name: string) => `model.layers.${layer}.${name}.weight`;

/**
 * CogVLM's visual expert (Wang et al., arXiv:2311.03079): the image enters the sequence as M
 * tokens from a token-level `projection` (spliced at `<image>` as in LLaVA), and in every decoder
 * layer those positions use their own q/k/v and feed-forward weights (`experts.<layer>`), text
 * positions the LLM's; attention still runs over the whole sequence in one softmax. Each expert
 * starts as a copy of its layer's text weights, so an untrained expert computes what the LLM would.
 */
export class VisualExpert extends Module implements FusionConnector {
  readonly kind = 'fusion-connector' as const;
  readonly requires: readonly FusionPoint[] = ['modality-routing'];
  readonly experts: readonly VisualExpertLayer[];
  /** Fingerprint of the experts as built, until the first bind with images (see `bind`). */
  private builtAs: number[] | undefined;

  constructor(readonly projection: TokenConnector, private readonly llm: LanguageModel, rng: Rng) {
    super();
    this.add('projection', projection);
    const state = llm.stateDict();
    const missing = Array.from({ length: llm.numLayers }, (_, i) => COPIED.map((n) => llmName(i, n))).flat().filter((n) => !(n in state));
    if (missing.length)
      throw new ConfigError([
        {
          path: 'connector.type',
          message: `visual-expert starts each expert as a copy of the LLM layer's weights under HF Llama names; this LLM lacks ${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', ...' : ''}`,
        },
      ]);
    this.experts = Array.from({ length: llm.numLayers }, (_, i) => {
      const [kvDim] = state[llmName(i, 'self_attn.k_proj')]!.shape;
      const [mlpHidden] = state[llmName(i, 'mlp.gate_proj')]!.shape;
      return new VisualExpertLayer({ dim: llm.dim, kvDim: kvDim!, mlpHidden: mlpHidden! }, rng.fork(`expert${i}`));
    });
    this.add('experts', new ModuleGroup(Object.fromEntries(this.experts.map((e, i) => [String(i), e]))));
    this.copyTextWeights();
    this.builtAs = this.fingerprint();
  }

  outputTokens(inputTokens: number): number {
    return this.projection.outputTokens(inputTokens);
  }

  /** features [I, N, D_enc] -> visual tokens [I, M, D], spliced by the model at each `<image>`. */
  embedImages(features: tf.Tensor3D): tf.Tensor3D {
    return this.projection.forward(features);
  }

  /** Sets every expert to the current text weights of its layer. */
  copyTextWeights(): void {
    const state = this.llm.stateDict();
    this.experts.forEach((expert, i) =>
      COPIED.forEach((name) => {
        const own = expert.stateDict()[`${name}.weight`] as tf.Variable;
        const text = state[llmName(i, name)]!;
        // a fresh buffer: assign() adopts its argument's data, and two variables sharing one break when either is reassigned
        const copy = tf.tensor(text.dataSync(), text.shape, text.dtype);
        own.assign(copy);
        copy.dispose();
      }),
    );
  }

  /**
   * Hooks for one forward or generation; `slots[k].start` is where image k's M tokens begin.
   * The first bind with images re-copies the text weights if the experts are still as built:
   * buildModel runs before stage `pretrain-llm` trains the LLM, and CogVLM starts the experts
   * from the trained LLM. Experts that were trained or loaded from a checkpoint since are kept.
   */
  bind(features: tf.Tensor3D, slots: readonly MediaSlot[], batchSize: number): LayerFusion {
    if (features.shape[0] !== slots.length) throw new Error(`visual-expert: ${features.shape[0]} images but ${slots.length} slots`);
    if (slots.length && this.builtAs) {
      if (sameNumbers(this.fingerprint(), this.builtAs)) this.copyTextWeights();
      this.builtAs = undefined;
    }
    const m = this.outputTokens(features.shape[1]);
    const spans = slots.map(({ row, start }, k) => {
      if (row < 0 || row >= batchSize) throw new RangeError(`media slot ${k} is in row ${row}, outside the batch of ${batchSize} rows`);
      return { row, start, end: start + m };
    });
    return {
      routing: (layer: number, { past }: FusionStep, queries: number) => {
        const mask = new Float32Array(batchSize * queries);
        for (const { row, start, end } of spans)
          for (let p = Math.max(start, past); p < Math.min(end, past + queries); p++) mask[row * queries + p - past] = 1;
        // a call without image positions (text-only batches, every decode step) runs the LLM as it is
        if (!mask.some((v) => v === 1)) return undefined;
        return this.experts[layer]!.routing(tf.tensor3d(mask, [batchSize, queries, 1]));
      },
      dispose: () => undefined,
    };
  }

  /** Sum and sum of squares of each expert weight: any training step or checkpoint load changes them. */
  private fingerprint(): number[] {
    return tf.tidy(() => this.experts.flatMap((e) => e.parameters().flatMap((p) => [p.sum().dataSync()[0]!, p.square().sum().dataSync()[0]!])));
  }
}

function sameNumbers(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
