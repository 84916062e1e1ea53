import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import {
  ConfigError,
  Linear,
  Module,
  ModuleGroup,
  normalInit,
  type FusionConnector,
  type FusionPoint,
  type LayerFusion,
  type MediaSlot,
  type Rng,
} from '@mllm/core';

// Shapes: B batch, I images in the batch, N feature tokens per image, P prompts, D LLM width, H heads.

export const adapterPromptsSchema = z
  .object({
    type: z.literal('adapter-prompts'),
    /** Prompt vectors per adapted layer (LLaMA-Adapter's adapter_len = 10). */
    prompts: z
      .number({ error: 'prompts must be a number' })
      .int({ error: 'prompts must be a whole number' })
      .min(1, { error: 'prompts must be >= 1: each adapted layer attends to this many learnable prompts' })
      .default(10),
    /**
     * Adapted layers, counted from the top (LLaMA-Adapter: 30 of 32). Left out: min(2, LLM layers),
     * which at the default 2-layer LLM adapts every layer; the LLM depth is only known at build.
     */
    layers: z
      .number({ error: 'layers must be a number' })
      .int({ error: 'layers must be a whole number' })
      .min(1, { error: 'layers must be >= 1: prompts go into the top `layers` decoder layers' })
      .optional(),
  })
  .strict();

export type AdapterPromptsConfig = z.output<typeof adapterPromptsSchema>;

/** The decoder layers that get prompts: the top `count` of `llmLayers`. */
export function adaptedLayers(count: number, llmLayers: number): number[] {
  return Array.from({ length: count }, (_, i) => llmLayers - count + i);
}

/**
 * One adapted layer's learnable prompts and per-head gate (HF peft `AdaptedAttention`:
 * `adaption_prompt`, `adaption_gate`). The gate starts at 0, so the layer starts unchanged.
 */
export class AdaptionPrompt extends Module {
  readonly prompt: tf.Variable;
  readonly gate: tf.Variable;

  constructor(prompts: number, dim: number, heads: number, rng: Rng) {
    super();
    // unit normal as peft: the prompts pass through the layer's k/v weights like hidden states do
    this.prompt = this.param('adaption_prompt', normalInit(rng, [prompts, dim], 1));
    this.gate = this.param('adaption_gate', tf.zeros([heads]));
  }

  /** visual [B, 1, D] or none -> { states [B, P, D], gate tanh(g) [H] } for core's `AttentionPrefix`. */
  prefix(visual: tf.Tensor3D | undefined, batch: number): { states: tf.Tensor3D; gate: tf.Tensor1D } {
    const [p, d] = this.prompt.shape;
    const prompts = this.prompt.reshape([1, p!, d!]);
    const states = (visual ? prompts.add(visual) : prompts.tile([batch, 1, 1])) as tf.Tensor3D; // [B, P, D]
    // tanh bounds each head's share as Flamingo's gates do; tanh(0) = 0 keeps the zero-init exact
    return { states, gate: tf.tanh(this.gate) as tf.Tensor1D };
  }
}

/**
 * LLaMA-Adapter (Zhang et al., arXiv:2303.16199), multimodal variant: learnable prompts in the
 * top `layers` decoder layers, whose keys/values (the layer's own frozen k/v projections of the
 * prompts) get a softmax of their own scaled by a zero-initialised per-head gate and added to
 * the layer's attention. The image enters as one global vector, the mean of the encoder
 * features projected to the LLM width (`visual_proj`), added to every prompt of its row.
 */
export class AdapterPrompts extends Module implements FusionConnector {
  readonly kind = 'fusion-connector' as const;
  readonly requires: readonly FusionPoint[] = ['kv-prefix'];
  readonly visualProj: Linear;
  /** Prompt modules by the decoder layer they adapt. */
  readonly layers: ReadonlyMap<number, AdaptionPrompt>;

  constructor(readonly config: AdapterPromptsConfig, inputDim: number, outputDim: number, llm: { layers: number; heads: number }, rng: Rng) {
    super();
    const count = config.layers ?? Math.min(2, llm.layers);
    if (count > llm.layers)
      throw new ConfigError([
        { path: 'connector.layers', message: `layers ${count} is more than the LLM's ${llm.layers} decoder layers; use 1..${llm.layers}` },
      ]);
    this.visualProj = this.add('visual_proj', new Linear(inputDim, outputDim, rng));
    this.layers = new Map(adaptedLayers(count, llm.layers).map((i) => [i, new AdaptionPrompt(config.prompts, outputDim, llm.heads, rng.fork(`layer${i}`))]));
    this.add('adapter_layers', new ModuleGroup(Object.fromEntries([...this.layers].map(([i, m]) => [String(i), m]))));
  }

  /**
   * features [I, N, D_enc] in slot order -> hooks. Each row's visual vector (the mean over its
   * images, if it has several) is projected here, once; `dispose` frees it.
   */
  bind(features: tf.Tensor3D, slots: readonly MediaSlot[], batchSize: number): LayerFusion {
    if (features.shape[0] !== slots.length) throw new Error(`adapter-prompts: ${features.shape[0]} images but ${slots.length} slots`);
    const visual = slots.length ? tf.tidy(() => this.rowVisual(features, slots, batchSize)) : undefined; // [B, 1, D]
    return {
      kvPrefix: (layer: number) => {
        const adapter = this.layers.get(layer);
        if (!adapter) return undefined;
        return tf.tidy(() => adapter.prefix(visual, batchSize));
      },
      dispose: () => visual?.dispose(),
    };
  }

  /** features [I, N, D_enc] -> per-row mean of the projected global features [B, 1, D]; rows without an image get 0. */
  private rowVisual(features: tf.Tensor3D, slots: readonly MediaSlot[], batch: number): tf.Tensor3D {
    const images = slots.length;
    const counts = new Array<number>(batch).fill(0);
    slots.forEach(({ row }, i) => {
      if (row < 0 || row >= batch) throw new RangeError(`media slot ${i} is in row ${row}, outside the batch of ${batch} rows`);
      counts[row]!++;
    });
    const average = new Float32Array(batch * images);
    slots.forEach(({ row }, i) => (average[row * images + i] = 1 / counts[row]!));
    const global = this.visualProj.forward(features.mean(1) as tf.Tensor2D); // [I, D]
    const rows = tf.matMul(tf.tensor2d(average, [batch, images]), global); // [B, D]
    return rows.reshape([batch, 1, this.visualProj.outFeatures]);
  }
}
