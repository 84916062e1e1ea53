import * as tf from '@tensorflow/tfjs';
import { Rng, type Module } from '@mllm/core';
import type { MultimodalModel } from '@mllm/model';
import { caption } from '@mllm/data';
import { ClipHead } from './clip-head';
import { DEFAULT_TRAINS, type StageConfig, type TrainableModule } from './run-config';
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
function makeBatchLoss(stage: StageConfig, index: number, model: MultimodalModel, data: StageData, head: ClipHead | undefined) {
  return (step: number, split: 'train' | 'val'): { loss: () => tf.Scalar; tokens: number } => {
    const rng = data.rngFor(index, step, split);
    if (stage.type === 'pretrain-encoder') {
      const pairs = split === 'train' ? data.contrastivePairs(rng, stage.batchSize) : data.pickScenes(rng, split, stage.batchSize).map((s) => ({ caption: caption(s), image: data.world.image(s.id) }));
      const captions = pairs.map((p) => [...data.tokenizer.encode(p.caption), data.tokenizer.special.eos]);
      const width = Math.max(...captions.map((c) => c.length));
      const padded = captions.map((c) => [...c, ...new Array<number>(width - c.length).fill(data.tokenizer.special.pad)]);
      const images = pairs.map((p) => p.image);
      return {
        tokens: stage.batchSize * (model.encoder.numTokens + 1), // image tokens (patches + CLS) through the encoder
        loss: () => {
          const pooled = model.encoder.pooled(model.imagesToTensor(images));
          return head!.contrastiveLoss(pooled, head!.encodeText(padded, captions.map((c) => c.length)));
        },
      };
    }
    const scenes = data.pickScenes(rng, split, stage.batchSize);
    const kind = pickInstructKind(rng);
    const samples = scenes.map((scene) => (stage.type === 'pretrain-llm' ? data.text(scene, rng) : data.tokenize(data.conversation(stage.type, scene, rng, kind))));
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
  const trains = stage.trains ?? DEFAULT_TRAINS[stage.type];
  model.freeze();
  for (const which of trains) moduleOf(model, which).unfreeze();
  const head =
    stage.type === 'pretrain-encoder'
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
          new Rng(data.seed).fork(`stage${index}:clip-head`),
        )
      : undefined;
  const params: [string, tf.Variable][] = [...model.trainableParameters(), ...(head?.namedParameters('clip_head.') ?? [])];
  let optimizer: AdamW | undefined;
  if (resume) {
    head?.loadStateDict(Object.fromEntries(Object.entries(resume.extra).map(([k, v]) => [k.replace(/^clip_head\./, ''), v])), { source: 'stage state' });
    optimizer = new AdamW(params, { weightDecay: stage.weightDecay });
    optimizer.loadStateDict(resume.optimizer, resume.step);
  }
  const batchLoss = makeBatchLoss(stage, index, model, data, head);
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
