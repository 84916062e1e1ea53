import * as tf from '@tensorflow/tfjs';
import { AdamW } from './adamw';
import { clipGradNorm } from './clip-grads';
import { warmupCosine } from './schedule';

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
  seconds: number;
  /** What the step's objective reports beside its loss (DPO's reward margin, PPO's KL, ...). */
  stats?: Record<string, number>;
}

/** One step's loss closure; `stats` may be filled while the closure runs and is logged with the step. */
export interface StepLoss {
  loss: () => tf.Scalar;
  tokens: number;
  stats?: Record<string, number>;
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
    const { loss, tokens, stats } = options.lossAt(step);
    const { value, grads } = tf.variableGrads(loss, vars);
    // parameters off the loss path (e.g. a ViT's unused last layer) get no gradient and stay as they are
    const byName = new Map(params.filter(([, p]) => grads[p.name]).map(([name, p]) => [name, grads[p.name]!] as [string, tf.Tensor]));
    const { grads: clipped, norm } = clipGradNorm(byName, optim.clipNorm);
    const lr = warmupCosine(step, { lr: optim.lr, warmup: optim.warmup, total: optim.steps, minRatio: optim.minLrRatio });
    optimizer.apply(clipped, lr);
    lastLoss = value.dataSync()[0]!;
    value.dispose();
    for (const g of clipped.values()) g.dispose();
    for (const g of byName.values()) if (!g.isDisposed) g.dispose();
    await options.onStep?.({ step, loss: lastLoss, lr, gradNorm: norm, tokens, seconds: (performance.now() - started) / 1000, ...(stats && { stats }) });
    await options.afterStep?.(step + 1, optimizer);
  }
  return { optimizer, lastLoss };
}
