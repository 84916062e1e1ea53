import * as tf from '@tensorflow/tfjs';
import { AdamW } from './adamw';
import { clipScale, globalGradNorm } from './clip-grads';
import { warmupCosine } from './schedule';
import type { DataParallel } from './data-parallel';
import { accumulateShards, microBatches, type BatchShard } from './batch-shards';
import type { ModelBatch } from '@mllm/model';

export interface OptimConfig {
  steps: number;
  lr: number;
  warmup: number;
  minLrRatio: number;
  weightDecay: number;
  /** Global gradient-norm clip; 0 disables. */
  clipNorm: number;
}

export interface StepEvent {
  step: number;
  loss: number;
  lr: number;
  gradNorm: number;
  /** Tokens consumed by this step (text tokens; image tokens through the encoder for contrastive stages). */
  tokens: number;
  /** Images the step's batch holds. */
  images: number;
  seconds: number;
  /** What the step's objective reports beside its loss (DPO's reward margin, PPO's KL, ...). */
  stats?: Record<string, number>;
}

/** One step's loss closure; `stats` may be filled while the closure runs and is logged with the step. */
export interface StepLoss {
  loss: () => tf.Scalar;
  tokens: number;
  /** Images in the step's batch (0 when absent). */
  images?: number;
  stats?: Record<string, number>;
  /**
   * Present when the loss is a per-token mean over a collated batch: how to cut the batch into
   * row slices and the loss of one slice, so data-parallel workers can share the step.
   */
  shard?: { split: (parts: number) => BatchShard[]; lossOf: (batch: ModelBatch) => tf.Scalar };
}

export interface TrainLoopOptions {
  params: [string, tf.Variable][];
  optim: OptimConfig;
  /** Builds the loss closure for a step; its data depends only on the step, so resume is exact. */
  lossAt: (step: number) => StepLoss;
  startStep?: number;
  optimizer?: AdamW;
  onStep?: (event: StepEvent) => void | Promise<void>;
  /** Called after step `step` completed (1-based count of finished steps). */
  afterStep?: (finished: number, optimizer: AdamW) => void | Promise<void>;
  /** Shares each step whose loss can be sharded with these workers (started, and `beginStage`d for these params). */
  parallel?: DataParallel;
  /** In one process, cut batches of uneven rows into length-sorted micro-batches (default true; see `microBatches`). */
  microBatches?: boolean;
}

/** The shared step: loss, gradients, clip, AdamW, scheduled learning rate. */
export async function trainLoop(options: TrainLoopOptions): Promise<{ optimizer: AdamW; lastLoss: number }> {
  const { params, optim } = options;
  if (params.length === 0) throw new Error('nothing to train: every module of this stage is frozen; check the stage\'s "trains" list');
  const optimizer = options.optimizer ?? new AdamW(params, { weightDecay: optim.weightDecay });
  const vars = params.map(([, p]) => p);
  let lastLoss = NaN;
  for (let step = options.startStep ?? 0; step < optim.steps; step++) {
    const started = performance.now();
    const { loss, tokens, images, stats, shard } = options.lossAt(step);
    let byName: Map<string, tf.Tensor>;
    const micro = !options.parallel && shard && (options.microBatches ?? true) ? microBatches(shard.split) : undefined;
    if (options.parallel && shard) {
      const result = await options.parallel.step(step, shard.split(options.parallel.size), shard.lossOf);
      byName = result.grads;
      lastLoss = result.loss;
    } else if (micro && shard) {
      const result = accumulateShards(micro, shard.lossOf, params);
      byName = result.grads;
      lastLoss = result.loss;
    } else {
      const { value, grads } = tf.variableGrads(loss, vars);
      // parameters off the loss path (e.g. a ViT's unused last layer) get no gradient and stay as they are
      byName = new Map(params.filter(([, p]) => grads[p.name]).map(([name, p]) => [name, grads[p.name]!] as [string, tf.Tensor]));
      lastLoss = value.dataSync()[0]!;
      value.dispose();
    }
    const norm = globalGradNorm(byName.values());
    const lr = warmupCosine(step, { lr: optim.lr, warmup: optim.warmup, total: optim.steps, minRatio: optim.minLrRatio });
    optimizer.apply(byName, lr, clipScale(norm, optim.clipNorm));
    options.parallel?.publish();
    for (const g of byName.values()) g.dispose();
    await options.onStep?.({ step, loss: lastLoss, lr, gradNorm: norm, tokens, images: images ?? 0, seconds: (performance.now() - started) / 1000, ...(stats && { stats }) });
    await options.afterStep?.(step + 1, optimizer);
  }
  return { optimizer, lastLoss };
}
