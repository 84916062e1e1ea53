import * as tf from '@tensorflow/tfjs';
import { ModuleGroup, Rng, type Module } from '@mllm/core';
import type { MultimodalModel } from '@mllm/model';
import { caption } from '@mllm/data';
import { ClipHead } from './clip-head';
import { RegionHead } from './region-head';
import { defaultTrains, type StageConfig, type TrainableModule } from './run-config';
import { pickInstructKind, type StageData } from './stage-data';
import { trainLoop, type StepEvent } from './train-loop';
import { AdamW } from './adamw';

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
}

/** Where a resumed stage picks up: finished steps, optimizer moments and any stage-only modules. */
export interface StageResumeState {
  step: number;
  optimizer: Record<string, tf.Tensor>;
  extra: Record<string, tf.Tensor>;
}

export interface StageCallbacks {
  onStep?: (event: StepEvent & { valLoss?: number }) => void | Promise<void>;
  /** Persist a mid-stage checkpoint (model + optimizer + extra modules). */
  onCheckpoint?: (state: { step: number; optimizer: AdamW; extra?: Module }) => Promise<void>;
}

export function stageName(stage: StageConfig, index: number): string {
  return stage.name ?? `${index}-${stage.type}`;
}

function moduleOf(model: MultimodalModel, which: TrainableModule): Module {
  return which === 'encoder' ? model.encoder : which === 'connector' ? model.connector : model.llm;
}

/** A stage's loss on one batch, built from the step's deterministic data. */
function makeBatchLoss(stage: StageConfig, index: number, model: MultimodalModel, data: StageData, heads: EncoderHeads | undefined) {
  return (step: number, split: 'train' | 'val'): { loss: () => tf.Scalar; tokens: number } => {
    const rng = data.rngFor(index, step, split);
    if (stage.type === 'pretrain-encoder') {
      const pairs = split === 'train' ? data.contrastivePairs(rng, stage.batchSize) : data.pickScenes(rng, split, stage.batchSize).map((s) => ({ scene: s, caption: caption(s), image: data.world.image(s.id) }));
      const captions = pairs.map((p) => [...data.tokenizer.encode(p.caption), data.tokenizer.special.eos]);
      const width = Math.max(...captions.map((c) => c.length));
      const padded = captions.map((c) => [...c, ...new Array<number>(width - c.length).fill(data.tokenizer.special.pad)]);
      const images = pairs.map((p) => p.image);
      return {
        tokens: stage.batchSize * (model.encoder.numTokens + 1), // image tokens (patches + CLS) through the encoder
        loss: () => {
          const pixels = model.imagesToTensor(images);
          const losses: tf.Scalar[] = [];
          if (heads?.clip) losses.push(heads.clip.contrastiveLoss(model.encoder.pooled(pixels), heads.clip.encodeText(padded, captions.map((c) => c.length))));
          if (heads?.regions) losses.push(heads.regions.loss(model.encoder.encode(pixels), pairs.map((p) => p.scene)));
          return tf.addN(losses) as tf.Scalar;
        },
      };
    }
    const scenes = data.pickScenes(rng, split, stage.batchSize);
    const kind = pickInstructKind(rng);
    // Rolled only when asked for, so runs without conversations keep their exact batches.
    const chat = stage.type === 'pretrain-llm' && stage.conversations > 0 && rng.next() < stage.conversations;
    const samples = scenes.map((scene) =>
      stage.type !== 'pretrain-llm' ? data.tokenize(data.conversation(stage.type, scene, rng, kind)) : chat ? data.textConversation(scene, rng, kind) : data.text(scene, rng),
    );
    const batch = model.collate(samples);
    return { tokens: batch.attentionMask.flat().reduce((a, b) => a + b, 0), loss: () => model.loss(batch) };
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
): Promise<StageResult> {
  const started = performance.now();
  const trains = stage.trains ?? defaultTrains(stage.type, model.connector.kind);
  model.freeze();
  for (const which of trains) moduleOf(model, which).unfreeze();
  const heads = stage.type === 'pretrain-encoder' ? encoderHeads(stage, index, model, data) : undefined;
  const head = heads?.group;
  const params: [string, tf.Variable][] = [...model.trainableParameters(), ...(head?.namedParameters() ?? [])];
  let optimizer: AdamW | undefined;
  if (resume) {
    head?.loadStateDict(resume.extra, { source: 'stage state' });
    optimizer = new AdamW(params, { weightDecay: stage.weightDecay });
    optimizer.loadStateDict(resume.optimizer, resume.step);
  }
  const batchLoss = makeBatchLoss(stage, index, model, data, heads);
  const validate = (): number =>
    tf.tidy(() => {
      const losses = [0, 1].map((k) => batchLoss(k, 'val').loss().dataSync()[0]!);
      return losses.reduce((a, b) => a + b, 0) / losses.length;
    });
  let tokens = 0;
  let valLoss = NaN;
  const { lastLoss, optimizer: used } = await trainLoop({
    params,
    optim: stage,
    lossAt: (step) => batchLoss(step, 'train'),
    startStep: resume?.step ?? 0,
    optimizer,
    onStep: async (event) => {
      tokens += event.tokens;
      const due = (stage.evalEvery > 0 && (event.step + 1) % stage.evalEvery === 0) || event.step === stage.steps - 1;
      if (due) valLoss = validate();
      await callbacks.onStep?.({ ...event, valLoss: due ? valLoss : undefined });
    },
    afterStep: async (finished, opt) => {
      if (stage.checkpointEvery > 0 && finished % stage.checkpointEvery === 0 && finished < stage.steps)
        await callbacks.onCheckpoint?.({ step: finished, optimizer: opt, extra: head });
    },
  });
  if (stage.steps === 0) valLoss = validate();
  used.dispose();
  head?.dispose();
  return {
    name: stageName(stage, index),
    type: stage.type,
    steps: stage.steps,
    finalLoss: lastLoss,
    valLoss,
    seconds: (performance.now() - started) / 1000,
    trains,
    trainableParameters: params.reduce((n, [, p]) => n + p.size, 0),
    tokens,
  };
}

/** The stage-only modules encoder pre-training trains next to the encoder, one per objective. */
interface EncoderHeads {
  clip?: ClipHead;
  regions?: RegionHead;
  /** Both under their checkpoint names (`clip_head.*`, `region_head.*`). */
  group: ModuleGroup;
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
  const regions = stage.objectives.includes('regions') ? new RegionHead(model.encoder.outputDim, model.encoder.numTokens, rng.fork(`stage${index}:region-head`)) : undefined;
  return { clip, regions, group: new ModuleGroup({ ...(clip && { clip_head: clip }), ...(regions && { region_head: regions }) }) };
}
