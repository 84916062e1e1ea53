import * as tf from '@tensorflow/tfjs';
import { MllmError, ModuleGroup, Rng, type Module } from '@mllm/core';
import type { ModelBatch, MultimodalModel } from '@mllm/model';
import { caption } from '@mllm/data';
import { ClipHead } from './clip-head';
import { RegionHead } from './region-head';
import { CellHead } from './cell-head';
import { defaultTrains, type StageConfig, type TrainableModule } from './run-config';
import { drawsInterleaved, interleavedBatch } from './interleaved-batch';
import { pickReviseKind, pickStageKind, pickToolKind, validationEntries, type MixtureEntry, type StageData } from './stage-data';
import { trainLoop, type StepEvent, type StepLoss } from './train-loop';
import type { DataParallel } from './data-parallel';
import { shardBatch } from './batch-shards';
import { AdamW } from './adamw';
import { MoeStageTracker, type MoeStageStats, type MoeTrackerState } from './moe-stage-stats';
import { dpoObjective } from './dpo-stage';
import { ppoObjective } from './ppo-stage';
import { rewardObjective } from './reward-stage';
import { batchTokens, moduleOf, type AlignmentContext, type StageObjective } from './stage-objective';
import { FrozenFeatures } from './frozen-features';
import { LoraAdapters } from './lora';
import { StageMeter, type StageThroughput } from './stage-throughput';
import { buildCaptionPool, type CaptionPoolReport } from './caption-pool';

export interface StageResult {
  name: string;
  type: StageConfig['type'];
  steps: number;
  finalLoss: number;
  valLoss: number;
  seconds: number;
  trains: TrainableModule[];
  trainableParameters: number;
  tokens: number;
  /** Step time, tokens/s, images/s and peak memory of the steps run in this process. */
  throughput?: StageThroughput;
  /** Present when the stage trained the LLM through LoRA adapters (merged into it at the end). */
  lora?: { rank: number; alpha: number; targets: string[]; adapters: number };
  /** What the stage measured on held-out data at its end beyond the loss (reward accuracy, mean reward, ...). */
  heldOut?: Record<string, number>;
  /** An MoE LLM's routing over the stage: per-expert utilisation at its end, dropped tokens. */
  moe?: MoeStageStats;
  /** An align stage's captions under `data.captions`: web noise, what the filter removed, recaption quality. */
  captions?: CaptionPoolReport;
}

/**
 * What a stage has counted over its finished steps (its StageResult sums them), saved with a
 * mid-stage checkpoint so a resumed stage reports the whole stage, not only the steps after it.
 */
export interface StageProgress {
  tokens: number;
  moe?: MoeTrackerState;
}

/** Where a resumed stage picks up: finished steps, optimizer moments, any stage-only modules and the counts so far. */
export interface StageResumeState {
  step: number;
  optimizer: Record<string, tf.Tensor>;
  extra: Record<string, tf.Tensor>;
  /** Absent in checkpoints written before it was stored: the counts then start at the resumed step. */
  progress?: StageProgress;
}

export interface StageCallbacks {
  onStep?: (event: StepEvent & { valLoss?: number; valStats?: Record<string, number> }) => void | Promise<void>;
  /** Persist a mid-stage checkpoint (model + optimizer + extra modules). */
  onCheckpoint?: (state: { step: number; optimizer: AdamW; extra?: Module; progress: StageProgress }) => Promise<void>;
  /** Data-parallel workers (`mllm run --workers N`); stages whose loss is not a per-token mean over a batch ignore them. */
  parallel?: DataParallel;
  /** In one process, length-sorted micro-batches for batches of uneven rows (default true; `TrainLoopOptions.microBatches`). */
  microBatches?: boolean;
}

/** Whether a stage's steps can be shared by data-parallel workers (see `StepLoss.shard`). */
export function shardableStage(stage: StageConfig): boolean {
  return tokenStage(stage) && !stage.lora; // workers hold the model, not a stage's adapters
}

type TokenStage = Extract<StageConfig, { type: 'pretrain-llm' | 'align' | 'instruct' }>;

/** Stages whose loss is the model's per-token loss over collated batches. */
function tokenStage(stage: StageConfig): stage is TokenStage {
  return stage.type === 'pretrain-llm' || stage.type === 'align' || stage.type === 'instruct';
}

/** A batch's loss under the model's per-token mean, splittable into row slices for data-parallel workers. */
function tokenBatchLoss(model: MultimodalModel, batch: ModelBatch, frozen?: FrozenFeatures): StepLoss {
  // a frozen encoder runs here, before the loss closure: outside the gradient scope
  frozen?.prepare(batch.images);
  // an MoE LLM's routing statistics, filled while the loss runs (on this process's rows)
  const stats: Record<string, number> | undefined = model.llm.experts ? {} : undefined;
  const lossOf = (b: ModelBatch) => model.loss(b, stats);
  return { tokens: batchTokens(batch), images: batch.images.length, loss: () => lossOf(batch), ...(stats && { stats }), shard: { split: (parts) => shardBatch(batch, parts), lossOf } };
}

export function stageName(stage: StageConfig, index: number): string {
  return stage.name ?? `${index}-${stage.type}`;
}

/**
 * A stage's loss on one batch, built from the step's deterministic data. With a mixture, the
 * batch's source is drawn from a forked stream (or given, for per-source validation), so a
 * `shapes` batch is the very batch the stage makes without a mixture.
 */
function makeBatchLoss(stage: StageConfig, index: number, model: MultimodalModel, data: StageData, heads: EncoderHeads | undefined, frozen?: FrozenFeatures) {
  const mixture = data.mixture(index);
  return (step: number, split: 'train' | 'val', only?: MixtureEntry): StepLoss => {
    const rng = data.rngFor(index, step, split);
    const source = only ?? mixture?.pick(rng.fork('source'));
    if (source && source.source.source !== 'shapes') {
      return tokenBatchLoss(model, model.collate(data.sourceSamples(source, rng, split, stage.batchSize)), frozen);
    }
    if (stage.type === 'pretrain-encoder') {
      const pairs = split === 'train' ? data.contrastivePairs(rng, stage.batchSize) : data.pickScenes(rng, split, stage.batchSize).map((s) => ({ scene: s, caption: caption(s), image: data.world.image(s.id) }));
      const clip = heads?.clip;
      const captions = clip?.textBatch(pairs.map((p) => p.caption), data.tokenizer);
      const images = pairs.map((p) => p.image);
      return {
        tokens: stage.batchSize * (model.encoder.numTokens + 1), // image tokens (patches + CLS) through the encoder
        images: images.length,
        loss: () => {
          const pixels = model.imagesToTensor(images);
          const losses: tf.Scalar[] = [];
          if (clip && captions) losses.push(clip.contrastiveLoss(model.encoder.pooled(pixels), clip.encodeText(captions.ids, captions.lengths)));
          const grid = heads?.regions || heads?.cells ? (model.encoder.gridTokens?.(pixels) ?? model.encoder.encode(pixels)) : undefined;
          if (heads?.regions) losses.push(heads.regions.loss(grid!, pairs.map((p) => p.scene)));
          if (heads?.cells) losses.push(heads.cells.loss(grid!));
          return tf.addN(losses) as tf.Scalar;
        },
      };
    }
    if (stage.type === 'instruct' && drawsInterleaved(stage.interleaved, rng)) return tokenBatchLoss(model, model.collate(interleavedBatch(data, rng, split, stage.batchSize)), frozen);
    if (stage.type === 'align' && data.captions) return tokenBatchLoss(model, model.collate(data.captions.samples(rng, split, stage.batchSize).map((s) => data.tokenize(s))), frozen);
    const scenes = data.pickScenes(rng, split, stage.batchSize);
    const kind = (stage.type === 'instruct' && (pickToolKind(rng, stage.toolUse) || pickReviseKind(rng, stage.revise))) || pickStageKind(rng, stage.type === 'instruct' ? stage.chainOfThought.share : 0);
    const chains = stage.type === 'instruct' ? stage.chainOfThought : undefined;
    // Rolled only when asked for, so runs without conversations keep their exact batches.
    const chat = stage.type === 'pretrain-llm' && stage.conversations > 0 && rng.next() < stage.conversations;
    const samples = scenes.map((scene) =>
      stage.type !== 'pretrain-llm' ? data.tokenize(data.conversation(stage.type, scene, rng, kind, chains)) : chat ? data.textConversation(scene, rng, kind) : data.text(scene, rng),
    );
    return tokenBatchLoss(model, model.collate(samples), frozen);
  };
}

/** Runs one training stage: freezes what it does not train, then the shared step loop. */
export async function runStage(
  stage: StageConfig,
  index: number,
  model: MultimodalModel,
  data: StageData,
  callbacks: StageCallbacks = {},
  resume?: StageResumeState,
  context?: AlignmentContext,
): Promise<StageResult> {
  const started = performance.now();
  const trains = stage.trains ?? defaultTrains(stage.type, model.connector.kind);
  model.freeze();
  for (const which of trains) moduleOf(model, which).unfreeze();
  if (trains.includes('connector')) for (const p of model.encoder.trainedWithConnector ?? []) p.trainable = true;
  await data.prepareStage(stage, index, model);
  if (stage.type === 'align' && data.captionConfig) data.captions ??= await buildCaptionPool(data.captionConfig, model, data, context);
  const objective = stageObjective(stage, index, model, data, trains, context, resume?.extra);
  const { params, extra } = objective;
  let optimizer: AdamW | undefined;
  if (resume) {
    optimizer = new AdamW(params, { weightDecay: stage.weightDecay });
    optimizer.loadStateDict(resume.optimizer, resume.step);
  }
  const parallel = callbacks.parallel && shardableStage(stage) ? callbacks.parallel : undefined;
  if (parallel) await parallel.beginStage(model, params);
  let tokens = resume?.progress?.tokens ?? 0;
  const meter = new StageMeter();
  let held: { loss: number; stats?: Record<string, number> } = { loss: NaN };
  const moe = MoeStageTracker.restore(resume?.progress?.moe);
  try {
    const { lastLoss, optimizer: used } = await trainLoop({
      params,
      optim: stage,
      lossAt: (step) => objective.lossAt(step),
      startStep: resume?.step ?? 0,
      optimizer,
      parallel,
      microBatches: callbacks.microBatches,
      onStep: async (event) => {
        tokens += event.tokens;
        meter.step(event);
        moe.add(event.stats);
        const due = (stage.evalEvery > 0 && (event.step + 1) % stage.evalEvery === 0) || event.step === stage.steps - 1;
        if (due) held = objective.validate();
        await callbacks.onStep?.({ ...event, ...(due && { valLoss: held.loss, ...(held.stats && { valStats: held.stats }) }) });
      },
      afterStep: async (finished, opt) => {
        if (stage.checkpointEvery > 0 && finished % stage.checkpointEvery === 0 && finished < stage.steps)
          await callbacks.onCheckpoint?.({ step: finished, optimizer: opt, extra, progress: { tokens, ...(moe.result() && { moe: moe.state() }) } });
      },
    });
    if (stage.steps === 0) held = objective.validate();
    used.dispose();
    const throughput = meter.result(objective.featureCache?.());
    objective.finish?.();
    return {
      name: stageName(stage, index),
      type: stage.type,
      steps: stage.steps,
      finalLoss: lastLoss,
      valLoss: held.loss,
      ...(held.stats && { heldOut: held.stats }),
      ...(moe.result() && { moe: moe.result() }),
      ...(stage.type === 'align' && data.captions && { captions: data.captions.report }),
      seconds: (performance.now() - started) / 1000,
      trains,
      trainableParameters: params.reduce((n, [, p]) => n + p.size, 0),
      tokens,
      throughput,
      ...(tokenStage(stage) && stage.lora && { lora: { ...stage.lora, adapters: objective.extra?.namedChildren().length ?? 0 } }),
    };
  } finally {
    objective.dispose();
  }
}

function stageObjective(
  stage: StageConfig,
  index: number,
  model: MultimodalModel,
  data: StageData,
  trains: TrainableModule[],
  context: AlignmentContext | undefined,
  resumeExtra: Record<string, tf.Tensor> | undefined,
): StageObjective {
  if (stage.type === 'dpo' || stage.type === 'reward' || stage.type === 'ppo') {
    if (!context) throw new MllmError(`a ${stage.type} stage needs an AlignmentContext (runStage's last argument) to copy the policy`);
    if (stage.type === 'dpo') return dpoObjective(stage, index, model, data, context, resumeExtra);
    if (stage.type === 'reward') return rewardObjective(stage, index, model, data, context, trains, resumeExtra);
    return ppoObjective(stage, index, model, data, context, resumeExtra);
  }
  const heads = stage.type === 'pretrain-encoder' ? encoderHeads(stage, index, model, data) : undefined;
  const lora = tokenStage(stage) && stage.lora ? loraAdapters(stage, index, model, data, trains) : undefined;
  const head = heads?.group ?? lora?.module;
  if (resumeExtra) head?.loadStateDict(resumeExtra, { source: 'stage state' });
  const frozen = frozenFeatures(stage, model);
  const batchLoss = makeBatchLoss(stage, index, model, data, heads, frozen);
  const heldOutLoss = (only?: MixtureEntry) => tf.tidy(() => [0, 1].map((k) => batchLoss(k, 'val', only).loss().dataSync()[0]!).reduce((a, b) => a + b, 0) / 2);
  const mixture = data.mixture(index);
  let merged = false;
  return {
    params: [...model.trainableParameters(), ...(head?.namedParameters() ?? [])],
    extra: head,
    lossAt: (step) => batchLoss(step, 'train'),
    // with a mixture, each source on its own batches, then weighted as training weighs them
    validate: () => {
      if (!mixture) return { loss: heldOutLoss() };
      const entries = validationEntries(mixture);
      const losses = entries.map((e) => heldOutLoss(e));
      const total = entries.reduce((a, e) => a + e.weight, 0);
      return {
        loss: losses.reduce((a, l, i) => a + l * entries[i]!.weight, 0) / total,
        stats: Object.fromEntries(entries.map((e, i) => [`loss ${e.label}`, losses[i]!])),
      };
    },
    featureCache: frozen && (() => ({ hits: frozen.hits, misses: frozen.misses, ...frozen.size })),
    // the trained adapters folded into the LLM: what the run saves is a plain model
    finish: () => {
      lora?.merge();
      merged = true;
      if (heads) keepTrainedHeads(model, heads);
    },
    dispose: () => {
      if (frozen) {
        model.featureSource = undefined;
        frozen.dispose();
      }
      if (lora && !merged) lora.detach(); // a stage that failed leaves the base weights as they were
      else if (!lora) head?.dispose();
    },
  };
}

/**
 * A per-image cache of the encoder's features when a token stage leaves the encoder wholly
 * frozen (not when the connector's stage trains some of its parameters, LLaVA-NeXT's newline).
 */
function frozenFeatures(stage: StageConfig, model: MultimodalModel): FrozenFeatures | undefined {
  if (!tokenStage(stage) || stage.featureCacheBytes === 0 || model.encoder.trainableParameters().length > 0) return undefined;
  const frozen = new FrozenFeatures(model, stage.featureCacheBytes);
  model.featureSource = frozen;
  return frozen;
}

/** LoRA adapters on the LLM, whose own weights this stage then leaves frozen. */
function loraAdapters(stage: TokenStage, index: number, model: MultimodalModel, data: StageData, trains: TrainableModule[]): LoraAdapters {
  if (!trains.includes('llm')) throw new MllmError(`stage ${stageName(stage, index)}: lora adapts the LLM, but the stage trains ${trains.join(', ')}; add "llm" to its trains`);
  model.llm.freeze();
  return new LoraAdapters(model.llm, stage.lora!, new Rng(data.seed).fork(`stage${index}:lora`), 'language_model.');
}

/** The stage-only modules encoder pre-training trains next to the encoder, one per objective. */
interface EncoderHeads {
  clip?: ClipHead;
  regions?: RegionHead;
  cells?: CellHead;
  /** Both under their checkpoint names (`clip_head.*`, `region_head.*`). */
  group: ModuleGroup;
}

/** Loads each head this stage trained into the connector that keeps it (an expert bridge's detector keeps the regions head). */
function keepTrainedHeads(model: MultimodalModel, heads: EncoderHeads): void {
  const kept = model.connector.kind === 'token-connector' ? model.connector.trainedHeads : undefined;
  if (heads.regions && kept?.regions) kept.regions.loadStateDict(heads.regions.stateDict(), { source: 'the regions head of encoder pre-training' });
}

function encoderHeads(stage: Extract<StageConfig, { type: 'pretrain-encoder' }>, index: number, model: MultimodalModel, data: StageData): EncoderHeads {
  const rng = new Rng(data.seed);
  const clip = stage.objectives.includes('contrastive')
    ? new ClipHead(
        {
          vocabSize: data.tokenizer.vocabSize,
          imageDim: model.encoder.outputDim,
          textDim: model.encoder.outputDim,
          textLayers: stage.textLayers,
          textHeads: 4,
          projectionDim: stage.projectionDim,
          maxLength: 64,
        },
        rng.fork(`stage${index}:clip-head`),
      )
    : undefined;
  const regions = stage.objectives.includes('regions') ? new RegionHead(model.encoder.outputDim, model.encoder.gridTokenCount ?? model.encoder.numTokens, rng.fork(`stage${index}:region-head`)) : undefined;
  const cells = stage.objectives.includes('cells') ? new CellHead(model.encoder.outputDim, model.encoder.gridTokenCount ?? model.encoder.numTokens, rng.fork(`stage${index}:cell-head`)) : undefined;
  return { clip, regions, cells, group: new ModuleGroup({ ...(clip && { clip_head: clip }), ...(regions && { region_head: regions }), ...(cells && { cell_head: cells }) }) };
}
