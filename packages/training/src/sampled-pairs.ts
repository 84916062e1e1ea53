import type { Rng } from '@mllm/core';
import { checkDescription, preferencePairs, type HallucinationKind, type PreferencePair, type PreferenceTask, type Scene, type Split } from '@mllm/data';
import type { MultimodalModel } from '@mllm/model';
import { askedSample, sampleAnswers } from './policy-sampling';
import type { StageData } from './stage-data';

/**
 * What the labeller found in one answer: `facts` it got right, `errors` it got wrong, and the
 * kind of hallucination most of the errors are (absent when there are none).
 */
export interface AnswerJudgement {
  facts: number;
  errors: number;
  kind?: HallucinationKind;
}

/**
 * How much worse an error is than a missing fact. Above 1, so that naming an absent object in
 * place of a present one loses to leaving it out; finite, so that saying nothing at all (no
 * facts, no errors) loses to a full description with one slip.
 */
export const ERROR_WEIGHT = 2;

/**
 * The Shapes world's exact checker as the human labeller of InstructGPT's comparison data.
 * A description (caption or detail task) is judged claim by claim (`checkDescription`), a wrong
 * object count counting as one more error; a question's answer is right when it is the pair's
 * faithful answer word for word.
 */
export function judgeAnswer(scene: Scene, pair: Pick<PreferencePair, 'task' | 'chosen' | 'kind'>, answer: string): AnswerJudgement {
  if (pair.task === 'question') {
    const right = answer.trim() === pair.chosen.trim();
    return right ? { facts: 1, errors: 0 } : { facts: 0, errors: 1, kind: pair.kind };
  }
  const check = checkDescription(scene, answer);
  const byKind: [HallucinationKind, number][] = [
    ['existence', check.existence],
    ['attribute', check.attribute + (check.count && check.count.stated !== check.count.actual ? 1 : 0)],
    ['relationship', check.relationship],
  ];
  const errors = byKind.reduce((s, [, n]) => s + n, 0);
  const facts = check.claims - check.existence - check.attribute - check.relationship;
  const worst = byKind.reduce((a, b) => (b[1] > a[1] ? b : a));
  return { facts, errors, ...(errors > 0 && { kind: worst[0] }) };
}

/** The labeller's score: higher is preferred; equal scores make no pair. */
export function judgementScore(j: AnswerJudgement): number {
  return j.facts - ERROR_WEIGHT * j.errors;
}

export interface SampledPairOptions {
  /** Answers sampled per prompt; the best and the worst of them make the prompt's pair. */
  samples: number;
  temperature: number;
  maxNewTokens: number;
}

/**
 * On-policy preference pairs (InstructGPT, arXiv:2203.02155, ranks the policy's own samples):
 * `count` prompts of one task are each answered `samples` times by the policy, the answers are
 * judged (`judgeAnswer`), and a prompt whose best answer scores above its worst gives the pair
 * (best chosen, worst rejected, `kind` the worst one's main error). Prompts whose answers all
 * score the same give none, so a batch holds at most `count` pairs, possibly none. A reward
 * model trained on the synthetic pairs alone has seen one injected error in a template
 * answer, never the errors the policy it will score actually makes.
 */
export function sampledPreferencePairs(
  model: MultimodalModel,
  data: StageData,
  rng: Rng,
  split: Split,
  count: number,
  task: PreferenceTask,
  options: SampledPairOptions,
): PreferencePair[] {
  if (!Number.isInteger(options.samples) || options.samples < 2) throw new Error(`sampledPreferencePairs: samples must be an integer >= 2 (a pair needs two answers), got ${options.samples}`);
  const scenes = data.pickScenes(rng, split, count);
  // the prompt (and, for questions, the faithful answer) exactly as the synthetic pairs ask it
  const templates = scenes.map((scene) => preferencePairs(scene, rng, { tasks: [task] })[0]!);
  const asked = templates.flatMap((t) => Array.from({ length: options.samples }, () => askedSample(data, t.prompt, t.image)));
  const answers = sampleAnswers(model, data, asked, { maxNewTokens: options.maxNewTokens, temperature: options.temperature, rng: rng.fork('answers') });
  const pairs: PreferencePair[] = [];
  templates.forEach((template, p) => {
    const judged = answers.slice(p * options.samples, (p + 1) * options.samples).map((ids) => {
      const text = data.tokenizer.decode(ids);
      return { text, judgement: judgeAnswer(scenes[p]!, template, text) };
    });
    // an empty answer cannot be tokenized as a turn the reward model reads; it is never kept
    const usable = judged.filter((a) => a.text.trim().length > 0);
    if (usable.length < 2) return;
    const ranked = [...usable].sort((a, b) => judgementScore(b.judgement) - judgementScore(a.judgement));
    const best = ranked[0]!;
    const worst = ranked.at(-1)!;
    if (judgementScore(best.judgement) === judgementScore(worst.judgement)) return;
    pairs.push({ ...template, id: `${template.id}-sampled`, chosen: best.text, rejected: worst.text, kind: worst.judgement.kind ?? template.kind });
  });
  return pairs;
}
