import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { Linear, MllmError, Module, ModuleGroup, fanInUniform, type LinearAdapter, type Rng } from '@mllm/core';

/** The projections of a Llama-family decoder layer; attention's four are LoRA's usual default. */
export const LLAMA_LINEARS = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] as const;

/**
 * LoRA (Hu et al. 2021, arXiv:2106.09685) for a stage that trains the LLM: its weights stay
 * frozen and each targeted linear layer learns W + (alpha / rank) B A instead, A [rank, in]
 * and B [out, rank]. `targets` name linear layers by their last name segment (PEFT's
 * `target_modules`).
 */
export const loraSchema = z
  .object({
    rank: z.number().int().min(1).default(8),
    alpha: z.number().positive().default(16),
    targets: z
      .array(z.string().min(1))
      .min(1)
      .refine((t) => new Set(t).size === t.length, { message: 'list each target once' })
      .default(['q_proj', 'k_proj', 'v_proj', 'o_proj']),
  })
  .strict();
export type LoraConfig = z.output<typeof loraSchema>;

/**
 * One layer's low-rank update, as PEFT initialises it: A uniform in +-1/sqrt(in) (kaiming_uniform
 * with a = sqrt(5)), B zero, so the adapted layer starts as exactly the base layer.
 */
export class LoraAdapter extends Module implements LinearAdapter {
  readonly a: tf.Variable;
  readonly b: tf.Variable;
  readonly scale: number;

  constructor(
    readonly target: Linear,
    config: LoraConfig,
    rng: Rng,
  ) {
    super();
    this.a = this.param('lora_A', fanInUniform(rng, [config.rank, target.inFeatures], target.inFeatures));
    this.b = this.param('lora_B', tf.zeros([target.outFeatures, config.rank]));
    this.scale = config.alpha / config.rank;
  }

  /** x2d [rows, in] -> scale * x A^T B^T [rows, out]: two thin products, never the [out, in] update. */
  delta(x2d: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => tf.matMul(tf.matMul(x2d, this.a as tf.Tensor2D, false, true), this.b as tf.Tensor2D, false, true).mul(this.scale) as tf.Tensor2D);
  }

  /** W += scale * B A, the update folded into the base weight. */
  merge(): void {
    const merged = tf.tidy(() => this.target.weight.add(tf.matMul(this.b as tf.Tensor2D, this.a as tf.Tensor2D).mul(this.scale)));
    this.target.weight.assign(merged);
    merged.dispose();
  }
}

/** Every Linear below `root` with its dotted path (`model.layers.0.self_attn.q_proj`). */
function linearsOf(root: Module, prefix = ''): [string, Linear][] {
  const out: [string, Linear][] = [];
  for (const [name, child] of root.namedChildren()) {
    if (child instanceof Linear) out.push([prefix + name, child]);
    else out.push(...linearsOf(child, `${prefix}${name}.`));
  }
  return out;
}

/**
 * The adapters of one stage, attached to the targeted layers of `root` (the LLM) under
 * `<path>.lora_A` / `<path>.lora_B` (prefixed by `prefix`, the module's name in the model).
 * A stage trains `module`'s parameters, saves them with its mid-stage checkpoints, and at its end
 * either `merge`s them into the base weights (the saved model is then a plain model, loadable
 * and exportable as any) or `detach`es them (a stage that stops early).
 */
export class LoraAdapters {
  readonly module: ModuleGroup;
  private readonly adapters: LoraAdapter[];

  constructor(root: Module, config: LoraConfig, rng: Rng, prefix = '') {
    const linears = linearsOf(root);
    const targets = new Set(config.targets);
    const chosen = linears.filter(([path]) => targets.has(path.slice(path.lastIndexOf('.') + 1)));
    const matched = new Set(chosen.map(([path]) => path.slice(path.lastIndexOf('.') + 1)));
    const unmatched = config.targets.filter((t) => !matched.has(t));
    if (unmatched.length > 0) {
      const names = [...new Set(linears.map(([path]) => path.slice(path.lastIndexOf('.') + 1)))];
      // a tied head is embed_tokens.weight, no Linear: an adapter on it would give the head a weight the embedding lacks
      const tied = unmatched.includes('lm_head') ? '; "lm_head" is tied to embed_tokens (tieWordEmbeddings), so it has no adapter of its own: leave it out, or train the embedding itself' : '';
      throw new MllmError(`lora.targets: ${unmatched.map((t) => JSON.stringify(t)).join(', ')} names no linear layer of the LLM; its linear layers are ${names.join(', ')}${tied}`);
    }
    this.adapters = chosen.map(([path, linear]) => {
      if (linear.adapter) throw new MllmError(`${prefix}${path} already has an adapter attached; detach or merge it first`);
      return new LoraAdapter(linear, config, rng.fork(`lora:${path}`));
    });
    this.module = new ModuleGroup(Object.fromEntries(chosen.map(([path], i) => [`${prefix}${path}`, this.adapters[i]!])));
    this.adapters.forEach((adapter) => (adapter.target.adapter = adapter));
  }

  get count(): number {
    return this.adapters.length;
  }

  /** Folds each update into its base weight and detaches the adapters. */
  merge(): void {
    for (const adapter of this.adapters) adapter.merge();
    this.detach();
  }

  /** Removes the adapters from their layers (the base weights unchanged) and frees them. */
  detach(): void {
    for (const adapter of this.adapters) if (adapter.target.adapter === adapter) adapter.target.adapter = undefined;
    this.module.dispose();
  }
}
