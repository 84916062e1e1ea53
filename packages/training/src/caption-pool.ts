import { MllmError, Rng } from '@mllm/core';
import { caption, captionSample, webCaptionPool, type LlavaSample, type Scene, type Split, type WebCaptionLabel } from '@mllm/data';
import type { MultimodalModel } from '@mllm/model';
import { DEFAULT_WEB_NOISE, type CaptionDataConfig } from './caption-data-schema';
import { filterByScore, removalQuality, scoreDistribution, type RemovalQuality, type ScoreDistribution } from './caption-filter';
import { CaptionScorer } from './caption-scorer';
import { recaption, recaptionQuality, trainCaptioner, type RecaptionQuality } from './caption-recaption';
import type { AlignmentContext } from './stage-objective';
import type { StageData } from './stage-data';

/** One image of the align stage's pool with the caption it trains on and, for web captions, that caption's ground truth. */
export interface PoolEntry {
  scene: Scene;
  caption: string;
  label?: WebCaptionLabel;
}

/** What the align stage's captions were (the stage's `captions` in report.json). */
export interface CaptionPoolReport {
  source: 'fine' | 'web';
  /** Seconds spent building the pool (training the scorer or captioner, scoring, recaptioning), before the stage's first step. */
  seconds: number;
  /** Images the pool started with, and those the stage trained on (after the filter). */
  scenes: number;
  trainedOn: number;
  /** Web source: the noise asked for and the pool's real shares. */
  noise?: { asked: number; noisy: number; wrong: number; unrelated: number };
  filter?: RemovalQuality & { rule: 'threshold' | 'keep'; threshold: number; scorerLoss: number; scores: ScoreDistribution };
  recaption?: RecaptionQuality & { captionerLoss: number; trainedOn: number; sourceChairI: number };
}

/**
 * The align stage's image-caption pairs. Training batches draw pairs from the pool with
 * replacement; validation batches stay the world's clean fine-grained captions of val scenes, so
 * the validation loss says how well the stage learnt the true captions.
 */
export class CaptionPool {
  constructor(
    private readonly entries: readonly PoolEntry[],
    private readonly data: StageData,
    readonly report: CaptionPoolReport,
  ) {
    if (entries.length === 0) throw new MllmError('data.captions: the filter kept no pair; lower filter.threshold or raise filter.keep');
  }

  /** The pool's pairs, each with the caption the stage trains on (and, from the web source, its label). */
  pairs(): readonly PoolEntry[] {
    return this.entries;
  }

  /** A batch of caption samples, one draw of `rng.int` per sample as the plain align stage draws its scenes. */
  samples(rng: Rng, split: Split, count: number): LlavaSample[] {
    if (split !== 'train') return this.data.pickScenes(rng, split, count).map(captionSample);
    return Array.from({ length: count }, () => {
      const entry = this.entries[rng.int(this.entries.length)]!;
      const sample = captionSample(entry.scene);
      return { ...sample, conversations: [sample.conversations[0]!, { from: 'gpt', value: entry.caption }] };
    });
  }
}

/** The first `count` train scenes of a seeded shuffle (the clean set of a scorer or captioner). */
function cleanSet(data: StageData, count: number, label: string): Scene[] {
  return new Rng(data.seed).fork(label).shuffle(data.world.scenes('train')).slice(0, count);
}

/** A copy of the model as it is now, for a scorer or captioner that must not change the run's weights. */
function copyOf(model: MultimodalModel, context: AlignmentContext | undefined): MultimodalModel {
  if (!context) throw new MllmError('data.captions with a filter or recaption needs an AlignmentContext (runStage\'s last argument) to copy the model');
  const copy = context.newModel();
  copy.loadStateDict(model.stateDict(), { source: 'the model the caption scorer or captioner starts from' });
  return copy;
}

/**
 * Builds the pool `config` asks for: web captions drawn from their own Rng fork, then filtered
 * by a contrastive scorer or rewritten by a captioner, both trained here on copies of `model`.
 */
export async function buildCaptionPool(config: CaptionDataConfig, model: MultimodalModel, data: StageData, context?: AlignmentContext): Promise<CaptionPool> {
  const started = performance.now();
  const pool = await buildPool(config, model, data, context);
  pool.report.seconds = (performance.now() - started) / 1000;
  return pool;
}

async function buildPool(config: CaptionDataConfig, model: MultimodalModel, data: StageData, context?: AlignmentContext): Promise<CaptionPool> {
  const train = data.world.scenes('train');
  const scenes = train.slice(0, config.scenes ?? train.length);
  if (config.source === 'fine') return new CaptionPool(scenes.map((scene) => ({ scene, caption: caption(scene) })), data, { source: 'fine', seconds: 0, scenes: scenes.length, trainedOn: scenes.length });
  const asked = config.noise ?? DEFAULT_WEB_NOISE;
  const pool: PoolEntry[] = webCaptionPool(scenes, new Rng(data.seed).fork('captions:web'), { noise: asked, wrongShare: config.wrongShare });
  const share = (label: WebCaptionLabel) => pool.filter((p) => p.label === label).length / pool.length;
  const report: CaptionPoolReport = { source: 'web', seconds: 0, scenes: pool.length, trainedOn: pool.length, noise: { asked, noisy: 1 - share('clean'), wrong: share('wrong'), unrelated: share('unrelated') } };
  if (config.filter) {
    const { filter } = config;
    const scorer = new CaptionScorer(copyOf(model, context), data, filter.scorer);
    try {
      const clean = filter.scorer.trainOn === 'clean';
      const trainPairs = clean ? cleanSet(data, filter.scorer.scenes, 'captions:scorer-set').map((scene) => ({ scene, caption: '' })) : pool;
      const scorerLoss = await scorer.train(trainPairs, { freshCaptions: clean });
      const scores = scorer.score(pool);
      const { kept, threshold } = filterByScore(scores, filter);
      const labels = pool.map((p) => p.label!);
      const quality = removalQuality(kept, labels.map((l) => l !== 'clean'));
      report.filter = { rule: filter.threshold !== undefined ? 'threshold' : 'keep', threshold, scorerLoss, ...quality, scores: scoreDistribution(scores, labels, kept) };
      const survivors = pool.filter((_, i) => kept[i]);
      report.trainedOn = survivors.length;
      return new CaptionPool(survivors, data, report);
    } finally {
      scorer.dispose();
    }
  }
  if (config.recaption) {
    const captioner = copyOf(model, context);
    try {
      const clean = cleanSet(data, config.recaption.scenes, 'captions:captioner-set');
      const captionerLoss = await trainCaptioner(captioner, data, clean, config.recaption);
      const rewritten = recaption(captioner, data, pool.map((p) => p.scene), config.recaption);
      const quality = recaptionQuality(pool.map((p) => p.scene), rewritten);
      const sourceChairI = recaptionQuality(pool.map((p) => p.scene), pool.map((p) => p.caption)).chairI;
      report.recaption = { captionerLoss, trainedOn: clean.length, sourceChairI, ...quality };
      return new CaptionPool(pool.map((p, i) => ({ scene: p.scene, caption: rewritten[i]! })), data, report);
    } finally {
      captioner.dispose();
    }
  }
  return new CaptionPool(pool, data, report);
}
