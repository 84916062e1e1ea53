import { Rng, silentLogger, type Logger } from '@mllm/core';
import { binaryAgreement, rubricAgreement, rubricPrompt, type Answerer, type JudgeHook, type JudgeReport } from '@mllm/eval';
import { DETAIL_PROMPT, type Scene, type ShapesWorld } from '@mllm/data';
import type { JudgeModelConfig, JudgesConfig } from '@mllm/training/internal';
import { ChatEndpointJudge } from './judge-endpoint';
import type { JudgeTask } from './judge-lm';
import { judgeResponses, modelResponse, type JudgeResponse } from './judge-responses';
import { trainJudgeLm, type TrainedJudge } from './judge-train';

/**
 * `eval.judges` in a run: trains the local judge LM once (on the world's train split), then at
 * every evaluation scores held-out responses, the run's own detailed descriptions of the test
 * scenes and edited descriptions of those scenes, and reports agreement with the exact checker.
 */

/** Defaults of a judge LM trained for the rubric alone (no haelm section to take options from). */
type RubricReport = NonNullable<JudgeReport['rubric']>;
type JudgeTraining = NonNullable<JudgeReport['haelm']>['training'];

const DEFAULT_JUDGE_MODEL: JudgeModelConfig = { steps: 400, batchSize: 32, lr: 3e-3, copyLoss: 1, dim: 64, layers: 2, heads: 4, reference: 'evidence', modelResponses: 0, responsesPerScene: 2 };

function groupBy<T>(items: readonly T[], key: (item: T) => string): Record<string, T[]> {
  const out: Record<string, T[]> = {};
  for (const item of items) (out[key(item)] ??= []).push(item);
  return out;
}

/** Detailed descriptions of `scenes` by the model the judge scores, in order. */
export type Describer = (scenes: readonly Scene[]) => Promise<string[]>;

/**
 * The judge hook of a run: trains the local judge on first use, then scores each evaluation's
 * descriptions. `describe` gives the judged model's descriptions of training scenes, which the
 * judge trains on where `haelm.modelResponses` asks for them.
 */
export function runJudges(config: JudgesConfig, world: ShapesWorld, seed: number, logger: Logger = silentLogger, describe?: Describer): JudgeHook {
  const model = config.haelm ?? DEFAULT_JUDGE_MODEL;
  const tasks: JudgeTask[] = [...(config.haelm ? ['haelm' as const] : []), ...(config.rubric && !config.rubric.endpoint ? ['rubric' as const] : [])];
  const endpoint = config.rubric?.endpoint ? new ChatEndpointJudge(config.rubric.endpoint) : undefined;
  let trained: Promise<TrainedJudge> | undefined;
  const ownResponses = async () => {
    if (model.modelResponses === 0) return [];
    if (!describe) throw new Error('eval.judges.haelm.modelResponses needs the judged model to describe training scenes; this caller gave the judge no model');
    const scenes = world.scenes('train').slice(0, model.modelResponses);
    const texts = await describe(scenes);
    logger.info(`judge LM: the judged model described ${scenes.length} training scenes to train on`);
    return scenes.map((scene, i) => ({ scene, response: modelResponse(scene, texts[i]!) }));
  };
  const local = () =>
    (trained ??= ownResponses().then((own) =>
      trainJudgeLm(
        world.scenes('train'),
        tasks,
        model,
        seed,
        (e) => {
          if ((e.step + 1) % 50 === 0 || e.step + 1 === model.steps) logger.info(`judge LM (${tasks.join(' + ')}): step ${e.step + 1}/${model.steps}, loss ${e.loss.toFixed(4)}`);
        },
        own,
      ),
    ));
  const training = (t: TrainedJudge): JudgeTraining => ({ steps: t.losses.length, finalLoss: t.losses.at(-1)!, seconds: t.seconds });

  return async (descriptions) => {
    // the synthetic responses depend on the seed only, so every evaluation of a run sees the same ones
    // about the scenes the evaluation described (all test scenes when it gave no descriptions)
    const scenes = descriptions.length > 0 ? descriptions.map((d) => world.scene(d.sceneId)) : world.scenes('test');
    const synthetic = judgeResponses(scenes, model.responsesPerScene, new Rng(seed).fork('judge:held-out'));
    const own = descriptions.map((d) => modelResponse(world.scene(d.sceneId), d.text));
    const held = [...synthetic.map((r) => ({ ...r, source: 'synthetic' })), ...own.map((r) => ({ ...r, source: 'model' }))];
    const report: JudgeReport = {};
    if (config.haelm) {
      const t = await local();
      const verdicts = t.judge.hallucinates(held);
      const bySource = groupBy(held.map((r, i) => ({ r, v: verdicts[i]! })), (x) => x.r.source);
      report.haelm = {
        ...binaryAgreement(verdicts, held.map((r) => r.hallucinates)),
        bySource: Object.fromEntries(Object.entries(bySource).map(([k, xs]) => [k, binaryAgreement(xs.map((x) => x.v), xs.map((x) => x.r.hallucinates))])),
        training: training(t),
        verdictThreshold: t.judge.verdictThreshold,
        ...(t.judge.verdictThreshold !== 0 && { atZeroMargin: binaryAgreement(t.judge.hallucinates(held, 64, 0), held.map((r) => r.hallucinates)) }),
      };
    }
    if (config.rubric) report.rubric = await rubric(held, endpoint, endpoint ? undefined : await local(), config.rubric.endpoint?.maxResponses);
    return report;
  };

  async function rubric(held: (JudgeResponse & { source: string })[], endpointJudge: ChatEndpointJudge | undefined, t: TrainedJudge | undefined, max?: number): Promise<RubricReport> {
    // responses without a fact have no exact score (FaithScore leaves them out)
    const scored = held.filter((r) => r.score !== undefined).slice(0, max ?? Infinity);
    const replies = endpointJudge ? await endpointJudge.reply(scored.map((r) => rubricPrompt(r.reference, r.response))) : t!.judge.reply('rubric', scored);
    const pairs = scored.map((r, i) => ({ r, reply: replies[i]! }));
    const bySource = groupBy(pairs, (p) => p.r.source);
    return {
      ...rubricAgreement(replies, scored.map((r) => r.score!)),
      judge: endpointJudge ? endpointJudge.label : 'local judge LM',
      bySource: Object.fromEntries(Object.entries(bySource).map(([k, ps]) => [k, rubricAgreement(ps.map((p) => p.reply), ps.map((p) => p.r.score!))])),
      ...(t && { training: training(t) }),
    };
  }
}

const judgesOfSession = new WeakMap<object, JudgeHook>();

/** The run's judge hook (one per session, so the judge LM trains once per run), or undefined without `eval.judges`. */
export function sessionJudges(session: { config: { seed: number; eval: { judges?: JudgesConfig } }; world: ShapesWorld }, logger?: Logger, describe?: Describer): JudgeHook | undefined {
  const config = session.config.eval.judges;
  if (!config || (!config.haelm && !config.rubric)) return undefined;
  let hook = judgesOfSession.get(session);
  if (!hook) judgesOfSession.set(session, (hook = runJudges(config, session.world, session.config.seed, logger, describe)));
  return hook;
}

/** A describer from an answerer: the detailed-description prompt for every scene, in batches. */
export function answererDescriber(answerer: Answerer, batchSize: number): Describer {
  return async (scenes) => {
    const out: string[] = [];
    for (let i = 0; i < scenes.length; i += batchSize) out.push(...(await answerer.answer(scenes.slice(i, i + batchSize).map((s) => ({ sceneId: s.id, prompt: DETAIL_PROMPT })))));
    return out;
  };
}
