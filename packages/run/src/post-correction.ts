import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '@mllm/core';
import { keyConcepts, woodpeckerCorrect, type ObjectExpert, type PostCorrection, type RewriteOptions, type SeenObject } from '@mllm/correct';
import { mitigationEvalSchema } from '@mllm/training/internal';
import { revisePrompt } from '@mllm/data/internal';
import type { Answerer } from '@mllm/eval';
import type { ModelImage } from '@mllm/model';
import type { RunConfig } from '@mllm/training';
import type { OpenedRun } from './open-run';
import { DETECTOR_FILE, RegionDetector, detectorOptions } from './tools/detector';

/**
 * Woodpecker's visual expert for one image: the objects the run's region detector sees there.
 * The detector reads the frozen encoder's tokens and was trained on training scenes only, so
 * its claims carry a trained model's mistakes, never the test scene's ground truth.
 */
export function detectorExpert(detector: RegionDetector, image: ModelImage): ObjectExpert {
  let seen: readonly SeenObject[] | undefined;
  return { objects: () => (seen ??= detector.detect([image])[0]!) };
}

/** One answer the post-correction changed, with the claims behind each edit (a report sample). */
export interface CorrectionSample {
  sceneId: string;
  prompt: string;
  answer: string;
  corrected: string;
  corrections: PostCorrection['corrections'];
}

/** What post-correction did to an evaluation's answers. */
export interface CorrectionLog {
  answers: number;
  changed: number;
  corrections: number;
  /** The first CORRECTION_SAMPLES changed answers, in the order they were scored. */
  samples: CorrectionSample[];
}

export const CORRECTION_SAMPLES = 10;

/**
 * An answerer whose replies pass through Woodpecker-style post-correction before they are
 * scored: each reply is rewritten against what `expertFor(sceneId)` sees. A reply that states
 * nothing the expert can check (yes / no, a colour, a bare number) comes back unchanged; one
 * that counts objects ("there are two objects") may not. `log` collects what changed, for the
 * report's samples.
 */
export function correctingAnswerer(answerer: Answerer, expertFor: (sceneId: string) => ObjectExpert, log: CorrectionLog = newCorrectionLog(), options: RewriteOptions = {}): Answerer & { log: CorrectionLog } {
  const experts = new Map<string, ObjectExpert>();
  const expertOf = (sceneId: string) => experts.get(sceneId) ?? experts.set(sceneId, expertFor(sceneId)).get(sceneId)!;
  return {
    log,
    async answer(requests) {
      const replies = await answerer.answer(requests);
      return Promise.all(
        replies.map(async (reply, i) => {
          const request = requests[i]!;
          const result = await woodpeckerCorrect(reply, expertOf(request.sceneId), options);
          log.answers++;
          if (!result.changed) return reply;
          log.changed++;
          log.corrections += result.corrections.length;
          if (log.samples.length < CORRECTION_SAMPLES) log.samples.push({ sceneId: request.sceneId, prompt: request.prompt, answer: reply, corrected: result.corrected, corrections: result.corrections });
          return result.corrected;
        }),
      );
    },
  };
}

/**
 * An answerer whose replies a learned revisor rewrites before they are scored (LURE, Zhou et al.
 * 2023, arXiv:2310.00754): every reply that names an object is sent back to `reviser` with the
 * same image as "revise the description : <reply>", and its answer replaces the reply. Replies
 * naming no object (yes / no, a colour, a number) are kept. LURE rewrites whole answers, so its
 * samples carry no per-edit claims.
 */
export function revisingAnswerer(answerer: Answerer, reviser: Answerer, log: CorrectionLog = newCorrectionLog()): Answerer & { log: CorrectionLog } {
  return {
    log,
    async answer(requests) {
      const replies = await answerer.answer(requests);
      const asked = replies.flatMap((reply, i) => (keyConcepts(reply).length > 0 ? [i] : []));
      const revised = asked.length > 0 ? await reviser.answer(asked.map((i) => ({ sceneId: requests[i]!.sceneId, prompt: revisePrompt(replies[i]!) }))) : [];
      const out = [...replies];
      asked.forEach((i, k) => (out[i] = revised[k]!));
      log.answers += replies.length;
      out.forEach((text, i) => {
        if (text === replies[i]) return;
        log.changed++;
        if (log.samples.length < CORRECTION_SAMPLES) log.samples.push({ sceneId: requests[i]!.sceneId, prompt: requests[i]!.prompt, answer: replies[i]!, corrected: text, corrections: [] });
      });
      return out;
    },
  };
}

export function newCorrectionLog(): CorrectionLog {
  return { answers: 0, changed: 0, corrections: 0, samples: [] };
}

/** How the config's `eval.mitigation` (its defaults when absent) lets the detector overrule an answer. */
export function rewriteOptions(config: RunConfig): RewriteOptions {
  const minConfidence = config.eval.mitigation?.minConfidence ?? mitigationEvalSchema.shape.minConfidence.parse(undefined);
  const refuteBelow = config.eval.mitigation?.refuteBelow;
  return { minConfidence, ...(refuteBelow !== undefined && { refuteBelow }) };
}

/** Post-correction of a finished run's answers (`mllm chat --correct`): Woodpecker with the run's region detector as expert. */
export interface PostCorrector {
  /** `answer` corrected against what the detector sees in `image` (pixels from the run's loadImage). */
  correct(image: ModelImage, answer: string): Promise<PostCorrection>;
  /** What the detector sees in `image`: each occupied cell's object with the probability of its shape call. */
  seen(image: ModelImage): SeenObject[];
  dispose(): void;
}

/**
 * The run's detector as Woodpecker's expert: the head saved in the run folder (runs with tools
 * or post-correction in `eval.mitigation` write one), else one trained now on the run's frozen
 * encoder over its training scenes, with the run's detector settings. Its calls overrule the
 * answer as the config's `eval.mitigation` says (rewriteOptions).
 */
export async function openPostCorrector(run: OpenedRun, logger?: Logger): Promise<PostCorrector> {
  const saved = join(run.dir, DETECTOR_FILE);
  let detector: RegionDetector;
  if (existsSync(saved)) detector = await RegionDetector.load(run.model, saved, run.config.seed);
  else {
    const options = detectorOptions(run.config);
    logger?.info(`post-correction: ${run.dir} has no ${DETECTOR_FILE}; training the region detector on the run's frozen encoder (${options.steps} steps)`);
    detector = RegionDetector.train(run.model, run.world, { ...options, seed: run.config.seed, ...(logger && { logger }) });
  }
  const options = rewriteOptions(run.config);
  return {
    correct: (image, answer) => woodpeckerCorrect(answer, detectorExpert(detector, image), options),
    seen: (image) => detector.detect([image])[0]!,
    dispose: () => detector.head.dispose(),
  };
}
