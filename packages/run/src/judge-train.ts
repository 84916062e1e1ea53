import * as tf from '@tensorflow/tfjs';
import { Rng, maskedCrossEntropy } from '@mllm/core';
import type { Scene } from '@mllm/data';
import { trainLoop } from '@mllm/training';
import { JudgeLm, responseSentences, type JudgeLmOptions, type JudgeTask } from './judge-lm';
import { exactVerdict } from './judge-exact';
import { judgeResponse, type JudgeResponse } from './judge-responses';

/**
 * Trains the judge LM (judge-lm.ts) on responses drawn afresh at every step from the given
 * scenes (judge-responses.ts), with @mllm/training's step loop (AdamW, warm-up + cosine,
 * clipping). The loss is next-token cross-entropy on the answer word only: "yes"/"no" for the
 * haelm task (one sentence of a response, labelled by the exact checker on that sentence; half
 * the rows take a hallucinated sentence when the response has one, as most sentences are
 * faithful), the rounded exact score of the whole response for the rubric task. Each step's rows come from a fork
 * of the seed named by the step, so the same seed trains the same judge.
 */
export interface JudgeTrainOptions extends JudgeLmOptions {
  steps: number;
  /** Weight of the next-token loss on the response's words beside the answer's (0: answer only). */
  copyLoss: number;
  batchSize: number;
  lr: number;
}

export interface JudgeTrainEvent {
  step: number;
  loss: number;
  seconds: number;
}

export interface TrainedJudge {
  judge: JudgeLm;
  /** Loss of every step, in order. */
  losses: number[];
  seconds: number;
}

const ANSWER_WEIGHT = 4;

/** Trains a judge for `tasks` on responses about `scenes` (the world's train split: a judge is measured on other scenes). */
export async function trainJudgeLm(
  scenes: readonly Scene[],
  tasks: readonly JudgeTask[],
  options: JudgeTrainOptions,
  seed: number,
  onStep?: (event: JudgeTrainEvent) => void,
): Promise<TrainedJudge> {
  if (scenes.length === 0) throw new Error('trainJudgeLm: no scenes to draw training responses from');
  if (tasks.length === 0) throw new Error('trainJudgeLm: name at least one task (haelm, rubric)');
  const root = new Rng(seed).fork('judge');
  const judge = new JudgeLm(options, root.fork('weights'));
  const started = performance.now();
  const losses: number[] = [];
  const lossAt = (step: number) => {
    const rng = root.fork(`step:${step}`);
    const rows: number[][] = [];
    const targets: number[] = [];
    while (rows.length < options.batchSize) {
      const scene = rng.pick(scenes);
      const r = judgeResponse(scene, rng);
      if (rng.pick(tasks) === 'haelm') {
        const { sentence, hallucinates } = drawSentence(scene, r, rng);
        rows.push(judge.encode('haelm', r.reference, sentence));
        targets.push(judge.tokenId(hallucinates ? 'yes' : 'no'));
      } else if (r.score !== undefined) {
        // a response with no fact has nothing to score (FaithScore leaves such texts out)
        rows.push(judge.encode('rubric', r.reference, r.response));
        targets.push(judge.scoreId(r.score));
      }
    }
    // next-token loss on the response's words too (weight 1), the answer weighing ANSWER_WEIGHT: copying
    // the reference's words into a faithful response is what the answer has to notice failing, and
    // a word-by-word signal teaches that far faster than one bit per row
    const t = Math.max(...rows.map((r) => r.length)) + 1;
    const full = rows.map((r, i) => [...r, targets[i]!]);
    const next: number[] = [];
    const weight: number[] = [];
    full.forEach((r) => {
      const pad = t - r.length;
      const start = judge.responseStart(r);
      for (let k = 0; k < t - 1; k++) {
        const at = k - pad; // index into r of the token at position k
        next.push(at >= -1 ? r[at + 1]! : 0);
        weight.push(at + 1 === r.length - 1 ? ANSWER_WEIGHT : at + 1 >= start && at >= 0 ? options.copyLoss : 0);
      }
    });
    const loss = () =>
      tf.tidy(() => {
        const logits = judge.sequenceLogits(full.map((r) => r.slice(0, -1))); // [B, T-1, V]
        return maskedCrossEntropy(logits.reshape([-1, logits.shape[2]]) as tf.Tensor2D, tf.tensor1d(next, 'int32'), tf.tensor1d(weight));
      });
    return { loss, tokens: rows.reduce((n, r) => n + r.length, 0) };
  };
  const optim = { steps: options.steps, lr: options.lr, warmup: Math.min(50, Math.ceil(options.steps / 10)), minLrRatio: 0.1, weightDecay: 0.01, clipNorm: 1 };
  const { optimizer } = await trainLoop({
    params: judge.llm.trainableParameters(),
    optim,
    lossAt,
    microBatches: false,
    onStep: (e) => {
      losses.push(e.loss);
      onStep?.({ step: e.step, loss: e.loss, seconds: e.seconds });
    },
  });
  optimizer.dispose();
  return { judge, losses, seconds: (performance.now() - started) / 1000 };
}

/** One sentence of a response with the exact checker's verdict on it; a hallucinated one half the time when there is one. */
function drawSentence(scene: Scene, r: JudgeResponse, rng: Rng): { sentence: string; hallucinates: boolean } {
  const judged = responseSentences(r.response).map((sentence) => ({ sentence, hallucinates: exactVerdict(scene, sentence).hallucinates }));
  const wrong = judged.filter((s) => s.hallucinates);
  if (judged.length === 0) return { sentence: r.response, hallucinates: r.hallucinates };
  return wrong.length > 0 && rng.next() < 0.5 ? rng.pick(wrong) : rng.pick(judged);
}
