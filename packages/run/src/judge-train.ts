import * as tf from '@tensorflow/tfjs';
import { Rng, maskedCrossEntropy } from '@mllm/core';
import type { Scene } from '@mllm/data';
import { trainLoop } from '@mllm/training';
import { atomicFacts, factText, verifyFact } from '@mllm/eval';
import { JudgeLm, type JudgeLmOptions, type JudgeTask } from './judge-lm';
import { judgeResponse, type JudgeResponse } from './judge-responses';

/**
 * Trains the judge LM (judge-lm.ts) on responses drawn afresh at every step from the given
 * scenes (judge-responses.ts), with @mllm/training's step loop (AdamW, warm-up + cosine,
 * clipping). The loss is next-token cross-entropy on the answer word: "yes"/"no" for the haelm
 * task (one atomic fact of a response, labelled by its truth in the scene; half the rows take a
 * false fact when the response has one, as most facts are true), the rounded exact score of the
 * whole response for the rubric task. Each step's rows come from a fork
 * of the seed named by the step, so the same seed trains the same judge. The trained judge's
 * verdictThreshold undoes the rebalancing: most facts a response states are true.
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

/** Share of rows drawn from the judged model's own responses, when there are any. */
const OWN_SHARE = 0.5;

/**
 * Trains a judge for `tasks` on responses about `scenes` (the world's train split: a judge is
 * measured on other scenes), and on `own` responses (the judged model's descriptions of
 * training scenes, each with its scene) in OWN_SHARE of the rows when given.
 */
export async function trainJudgeLm(
  scenes: readonly Scene[],
  tasks: readonly JudgeTask[],
  options: JudgeTrainOptions,
  seed: number,
  onStep?: (event: JudgeTrainEvent) => void,
  own: readonly { scene: Scene; response: JudgeResponse }[] = [],
): Promise<TrainedJudge> {
  if (scenes.length === 0) throw new Error('trainJudgeLm: no scenes to draw training responses from');
  if (tasks.length === 0) throw new Error('trainJudgeLm: name at least one task (haelm, rubric)');
  const root = new Rng(seed).fork('judge');
  const judge = new JudgeLm(options, root.fork('weights'));
  const started = performance.now();
  const losses: number[] = [];
  // false facts among the rows trained on, and among every fact of the responses drawn
  const rate = { rowsFalse: 0, rows: 0, factsFalse: 0, facts: 0 };
  const lossAt = (step: number) => {
    const rng = root.fork(`step:${step}`);
    const rows: number[][] = [];
    const targets: number[] = [];
    while (rows.length < options.batchSize) {
      // the stream of draws is the same as without `own` when there is none
      const mine = own.length > 0 && rng.next() < OWN_SHARE ? rng.pick(own) : undefined;
      const scene = mine?.scene ?? rng.pick(scenes);
      const r = mine?.response ?? judgeResponse(scene, rng);
      if (rng.pick(tasks) === 'haelm') {
        const claim = drawClaim(scene, r, rng);
        if (!claim) continue; // a response cut off before its first fact has nothing to judge
        rate.rows++;
        rate.rowsFalse += claim.false ? 1 : 0;
        rate.facts += claim.of;
        rate.factsFalse += claim.falseOf;
        rows.push(judge.encodeClaim(r.reference, claim.text));
        targets.push(judge.tokenId(claim.false ? 'yes' : 'no'));
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
  // Bayes' rule for the prior the rows were rebalanced away from: a fact is false when the
  // judge's log-odds beat the training rows' prior log-odds over the natural ones
  const logit = (p: number) => {
    const q = Math.min(Math.max(p, 1e-4), 1 - 1e-4);
    return Math.log(q / (1 - q));
  };
  if (rate.rows > 0 && rate.facts > 0) judge.verdictThreshold = logit(rate.rowsFalse / rate.rows) - logit(rate.factsFalse / rate.facts);
  return { judge, losses, seconds: (performance.now() - started) / 1000 };
}

/**
 * One atomic fact of a response with its truth in the scene (FaithScore's verification against
 * the ground truth); a false one half the time when there is one, as most facts are true.
 */
function drawClaim(scene: Scene, r: JudgeResponse, rng: Rng): { text: string; false: boolean; of: number; falseOf: number } | undefined {
  const facts = atomicFacts(r.response).map((f) => ({ text: factText(f), false: !verifyFact(f, scene) }));
  if (facts.length === 0) return undefined;
  const wrong = facts.filter((f) => f.false);
  const pick = wrong.length > 0 && rng.next() < 0.5 ? rng.pick(wrong) : rng.pick(facts);
  return { ...pick, of: facts.length, falseOf: wrong.length };
}
