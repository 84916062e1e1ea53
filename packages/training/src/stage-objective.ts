import type * as tf from '@tensorflow/tfjs';
import type { Module } from '@mllm/core';
import type { ModelBatch, MultimodalModel } from '@mllm/model';
import type { TrainableModule } from './run-config';
import type { RewardModel } from './reward-model';
import type { StepLoss } from './train-loop';

/** What a stage optimises: the shared step loop runs any of these. */
export interface StageObjective {
  /** The parameters this stage's optimizer updates. */
  params: [string, tf.Variable][];
  /** Stage-only modules (heads, a frozen reference copy), saved with mid-stage checkpoints. */
  extra?: Module;
  lossAt(step: number): StepLoss;
  /** Held-out loss, and what else the stage reports on held-out data (reward accuracy, ...). */
  validate(): { loss: number; stats?: Record<string, number> };
  /** Called once after the last step, before the stage's result is taken (LoRA merges its adapters). */
  finish?(): void;
  /** A frozen encoder's feature cache so far, for the stage's throughput. */
  featureCache?: () => { hits: number; misses: number; images: number; bytes: number };
  /** Frees what does not outlive the stage. */
  dispose(): void;
}

/** What alignment stages need from the run beyond the policy: copies of it, and the run's reward model. */
export interface AlignmentContext {
  /** A freshly initialised model of the run's architecture, to hold a copy of the policy. */
  newModel(): MultimodalModel;
  /** Set by a `reward` stage; read by `ppo`. */
  rewardModel?: RewardModel;
}

/** A frozen copy of the model as it is now (DPO's and PPO's reference, a reward model's start). */
export function copyModel(model: MultimodalModel, context: AlignmentContext): MultimodalModel {
  const copy = context.newModel();
  copy.loadStateDict(model.stateDict(), { source: 'policy copy' });
  return copy.freeze();
}

/** The module of a model that a stage's `trains` entry names. */
export function moduleOf(model: MultimodalModel, which: TrainableModule): Module {
  return which === 'encoder' ? model.encoder : which === 'connector' ? model.connector : model.llm;
}

/** Tokens a batch feeds the LLM (padding excluded), the unit of the logged throughput. */
export function batchTokens(batch: Pick<ModelBatch, 'attentionMask'>): number {
  return batch.attentionMask.flat().reduce((a, c) => a + c, 0);
}

/** Reads a stat the loss closure computed: one number from a scalar. */
export function scalarValue(x: tf.Tensor): number {
  return x.dataSync()[0]!;
}
