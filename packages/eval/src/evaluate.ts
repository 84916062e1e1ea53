/**
 * The evaluation runner: asks an answerer every closed-set question, every POPE probe (random,
 * popular and adversarial negative sampling), for one caption per scene and, when the set has a
 * detail prompt, for one detailed description per scene, in batches, then scores the replies
 * (and regroups the scores by hallucination kind). It knows nothing of models: anything with a batched `answer` works (a
 * MultimodalModel's greedy decoder, an ONNX session, a remote API, a test fake).
 */
import { attributeRates, type AttributeJudge, type AttributeRates } from './attribute-rates';
import { chair } from './chair';
import type { ChairResult } from './chair';
import { closedSetAccuracy } from './closed-set';
import type { ClosedSetResult } from './closed-set';
import { hallucinationByKind, kindRates } from './hallucination-kinds';
import type { DescriptionJudge, HallucinationByKind, KindRates } from './hallucination-kinds';
import type { GroundTruthScene } from './mentions';
import { popeMetrics } from './pope';
import type { PopeMetrics } from './pope';
import { reasoningRequests, scoreReasoning } from './reasoning';
import { faithScore, type FactScene, type FaithScoreResult } from './faith-score';
import type { ReasoningResult, ReasoningSet } from './reasoning';
import type { JudgeHook, JudgeReport } from './judge-report';
import type { ToolsResult } from './tools';
import { iclRequests, scoreIcl } from './icl';
import type { AnswerRequest, IclResult, IclSet } from './icl';
import type { HeldOutResult } from './held-out';

/** Replies to a batch of (image, prompt) requests, one reply per request, in order; a request may carry demonstrations to show first. */
export interface Answerer {
  answer(requests: AnswerRequest[]): Promise<string[]>;
}

export type PopeSampling = 'random' | 'popular' | 'adversarial';
export const POPE_SAMPLINGS: readonly PopeSampling[] = ['random', 'popular', 'adversarial'];

export interface EvalSet {
  scenes: GroundTruthScene[];
  closedSet: { sceneId: string; type: string; question: string; answer: string }[];
  pope: Record<PopeSampling, { sceneId: string; label: 'yes' | 'no'; question: string }[]>;
  /** Prompt asking for a caption of each scene, scored by CHAIR. */
  captionPrompt: string;
  /**
   * Detailed descriptions, asked once per scene with `prompt` and scored by CHAIR; with a
   * `judge`, also per hallucination kind (e.g. `(id, text) => checkDescription(world.scene(id), text)`
   * from @mllm/data).
   */
  detail?: {
    prompt: string;
    judge?: DescriptionJudge;
    attributes?: AttributeJudge;
    /**
     * A learned model's view of each scene (e.g. a detector's objects), for FaithScore's second
     * verification: facts checked against what a model sees rather than the ground truth.
     */
    seenScene?: (sceneId: string) => FactScene;
  };
  /** Questions asked directly and with a step-by-step prompt, for accuracy with and without a reasoning chain. */
  reasoning?: ReasoningSet;
  /** Few-shot episodes, each asked after 0, 1, 2, ... demonstrations (M-ICL). */
  icl?: IclSet;
}

/** Scores of the detailed descriptions. */
export interface DetailReport {
  /** CHAIR on the descriptions (long text is where hallucination shows). */
  chair: ChairResult;
  /** Per-kind counts and rates; present when the set has a judge. */
  kinds?: KindRates;
  /** Accuracy per object attribute (shape, colour, size, position, count); present when the set has an attribute judge. */
  attributes?: AttributeRates;
  /** The first 10 descriptions. */
  samples: { sceneId: string; description: string }[];
}

export interface EvalReport {
  pope: Record<PopeSampling, PopeMetrics>;
  chair: ChairResult;
  closedSet: ClosedSetResult;
  /** Present when the set has a detail prompt. */
  detail?: DetailReport;
  /** Present when the set has reasoning questions. */
  reasoning?: ReasoningResult;
  /**
   * Open-set scores of the detailed descriptions (present with a detail prompt): FaithScore
   * against the ground truth, and `learned` against `detail.seenScene` when the set has one.
   */
  openSet?: { faithScore: FaithScoreResult & { learned?: FaithScoreResult } };
  /** Judges of the detailed descriptions (present with a detail prompt and `EvaluateOptions.judge`). */
  judge?: JudgeReport;
  /** Present when the run has vision tools: questions answered by a controller calling them (filled in by @mllm/run). */
  tools?: ToolsResult;
  /** Present when the set has few-shot episodes: accuracy per task and shot count. */
  icl?: IclResult;
  /** Present when the run splits tasks and phrasings into held-in and held-out: zero-shot accuracy of each (filled in by @mllm/run). */
  heldOut?: HeldOutResult;
  /** The scores above regrouped by the hallucination kind each probes (hallucinationByKind). */
  byKind: HallucinationByKind;
  samples: {
    /** The first 10 captions. */
    captions: { sceneId: string; caption: string }[];
    /** The first 10 closed-set questions with the reply. */
    closedSet: { sceneId: string; type: string; question: string; answer: string; prediction: string }[];
  };
}

export interface EvaluateOptions {
  /** Requests per `answer` call (default 16). */
  batchSize?: number;
  /** Called after each batch with requests answered so far and the total. */
  onProgress?: (done: number, total: number) => void;
  /** Scores the detailed descriptions with judge models (HaELM-style, rubric); its report becomes `judge`. */
  judge?: JudgeHook;
}

const SAMPLE_COUNT = 10;

/** Every prompt of the set, one flat list (closed set, POPE by sampling, captions, descriptions). */
function requestsOf(set: EvalSet): AnswerRequest[] {
  const detail = set.detail;
  return [
    ...set.closedSet.map((q) => ({ sceneId: q.sceneId, prompt: q.question })),
    ...POPE_SAMPLINGS.flatMap((s) => set.pope[s].map((q) => ({ sceneId: q.sceneId, prompt: q.question }))),
    ...set.scenes.map((scene) => ({ sceneId: scene.id, prompt: set.captionPrompt })),
    ...(detail ? set.scenes.map((scene) => ({ sceneId: scene.id, prompt: detail.prompt })) : []),
    ...(set.reasoning ? reasoningRequests(set.reasoning) : []),
    ...(set.icl ? iclRequests(set.icl) : []),
  ];
}

function checkSceneIds(set: EvalSet, requests: AnswerRequest[]): void {
  const ids = new Set(set.scenes.map((s) => s.id));
  const asked = requests.flatMap((r) => [r.sceneId, ...(r.demonstrations ?? []).map((d) => d.sceneId)]);
  const unknown = [...new Set(asked.filter((id) => !ids.has(id)))];
  if (unknown.length > 0) {
    throw new Error(
      `evaluate: questions refer to scene ids not in set.scenes: ${unknown.slice(0, 5).join(', ')}` +
        `${unknown.length > 5 ? ` (+${unknown.length - 5} more)` : ''}; add those scenes or drop the questions`,
    );
  }
}

/** Ask the answerer every request in batches; replies come back in request order. */
async function answerAll(
  answerer: Answerer,
  requests: AnswerRequest[],
  opts: EvaluateOptions,
): Promise<string[]> {
  const batchSize = opts.batchSize ?? 16;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new Error(`evaluate: batchSize must be a positive integer, got ${batchSize}`);
  }
  const replies: string[] = [];
  for (let start = 0; start < requests.length; start += batchSize) {
    const batch = requests.slice(start, start + batchSize);
    const answers = await answerer.answer(batch);
    if (answers.length !== batch.length) {
      throw new Error(
        `evaluate: answerer returned ${answers.length} replies for a batch of ${batch.length} requests; ` +
          'it must return exactly one reply per request, in order',
      );
    }
    replies.push(...answers);
    opts.onProgress?.(replies.length, requests.length);
  }
  return replies;
}

/** Run the whole evaluation set through `answerer` and score it (POPE x3, CHAIR, closed set, descriptions, with/without reasoning). */
export async function evaluate(answerer: Answerer, set: EvalSet, opts: EvaluateOptions = {}): Promise<EvalReport> {
  const requests = requestsOf(set);
  checkSceneIds(set, requests);
  const replies = await answerAll(answerer, requests, opts);

  let next = 0;
  const take = (count: number): string[] => replies.slice(next, (next += count));

  const closedReplies = take(set.closedSet.length);
  const closedItems = set.closedSet.map((q, i) => ({ ...q, prediction: closedReplies[i]! }));

  const pope = {} as Record<PopeSampling, PopeMetrics>;
  for (const sampling of POPE_SAMPLINGS) {
    const probes = set.pope[sampling];
    const popeReplies = take(probes.length);
    pope[sampling] = popeMetrics(probes.map((p, i) => ({ label: p.label, prediction: popeReplies[i]! })));
  }

  const captionReplies = take(set.scenes.length);
  const captions = set.scenes.map((scene, i) => ({ sceneId: scene.id, caption: captionReplies[i]! }));

  let detail: DetailReport | undefined;
  let openSet: EvalReport['openSet'];
  let judgeReport: JudgeReport | undefined;
  if (set.detail) {
    const { judge, attributes, seenScene } = set.detail;
    const texts = take(set.scenes.length);
    if (opts.judge) judgeReport = await opts.judge(set.scenes.map((scene, i) => ({ sceneId: scene.id, text: texts[i]! })));
    const exact = faithScore(set.scenes.map((scene, i) => ({ text: texts[i]!, scene })));
    openSet = { faithScore: seenScene ? { ...exact, learned: faithScore(set.scenes.map((scene, i) => ({ text: texts[i]!, scene: seenScene(scene.id) }))) } : exact };
    detail = {
      chair: chair(set.scenes.map((scene, i) => ({ scene, caption: texts[i]! }))),
      ...(judge ? { kinds: kindRates(set.scenes.map((scene, i) => judge(scene.id, texts[i]!))) } : {}),
      ...(attributes ? { attributes: attributeRates(set.scenes.map((scene, i) => attributes(scene.id, texts[i]!))) } : {}),
      samples: set.scenes.slice(0, SAMPLE_COUNT).map((scene, i) => ({ sceneId: scene.id, description: texts[i]! })),
    };
  }

  let reasoning: ReasoningResult | undefined;
  if (set.reasoning) {
    const n = set.reasoning.items.length;
    reasoning = scoreReasoning(set.reasoning, take(n), take(n));
  }
  const icl = set.icl ? scoreIcl(set.icl, take(iclRequests(set.icl).length)) : undefined;

  const scores = {
    pope,
    chair: chair(set.scenes.map((scene, i) => ({ scene, caption: captionReplies[i]! }))),
    closedSet: closedSetAccuracy(closedItems),
    ...(detail ? { detail } : {}),
  };
  return {
    ...scores,
    ...(reasoning ? { reasoning } : {}),
    ...(openSet ? { openSet } : {}),
    ...(judgeReport ? { judge: judgeReport } : {}),
    ...(icl ? { icl } : {}),
    byKind: hallucinationByKind(scores),
    samples: {
      captions: captions.slice(0, SAMPLE_COUNT),
      closedSet: closedItems.slice(0, SAMPLE_COUNT),
    },
  };
}
