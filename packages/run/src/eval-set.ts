import { Rng } from '@mllm/core';
import {
  ANSWER_MARKER,
  CAPTION_PROMPTS,
  DETAIL_PROMPT,
  REASONING_PROMPT,
  attributeCheck,
  checkDescription,
  chainImpliedAnswer,
  closedSetQuestions,
  popeQuestions,
  reasoningQuestions,
  type Scene,
  type ShapesWorld,
} from '@mllm/data';
import type { EvalSet, PopeSampling } from '@mllm/eval';
import { type RunConfig } from '@mllm/training';
import { trainsChainOfThought } from '@mllm/training/internal';
import { buildIclSet } from './icl-set';

/**
 * The test-split questions: closed-set per scene, POPE in all three samplings, one caption
 * prompt, and one detailed-description prompt whose replies checkDescription judges per
 * hallucination kind against the scene; when the run trains chains of thought, the reasoning
 * questions too, asked directly and step by step; with `eval.icl`, the few-shot episodes.
 */
export function buildEvalSet(world: ShapesWorld, config: RunConfig): EvalSet {
  const scenes = world.scenes('test').slice(0, config.eval.scenes ?? Infinity);
  const rng = new Rng(config.seed).fork('eval');
  const pope = {} as EvalSet['pope'];
  for (const sampling of ['random', 'popular', 'adversarial'] as PopeSampling[]) {
    pope[sampling] = popeQuestions(scenes, { sampling, perImage: config.eval.popePerImage, rng: rng.fork(sampling), stats: world.stats });
  }
  const byId = new Map<string, Scene>(scenes.map((s) => [s.id, s]));
  const sceneOf = (sceneId: string): Scene => {
    const scene = byId.get(sceneId);
    if (!scene) throw new Error(`buildEvalSet: no test scene "${sceneId}" to judge a description against`);
    return scene;
  };
  // its own stream, so the questions above stay what they were before reasoning existed
  const reasoningRng = new Rng(config.seed).fork('eval:reasoning');
  const icl = buildIclSet(scenes, config);
  return {
    ...(icl && { icl }),
    ...(trainsChainOfThought(config.stages) && {
      reasoning: {
        items: scenes.flatMap((scene) => reasoningQuestions(scene, reasoningRng).map(({ type, question, answer }) => ({ sceneId: scene.id, type, question, answer }))),
        prompt: REASONING_PROMPT,
        marker: ANSWER_MARKER,
        implied: chainImpliedAnswer,
      },
    }),
    scenes: [...scenes],
    closedSet: scenes.flatMap((scene) => closedSetQuestions(scene, rng).map((q) => ({ sceneId: scene.id, ...q }))),
    pope,
    captionPrompt: CAPTION_PROMPTS[0],
    detail: {
      prompt: DETAIL_PROMPT,
      judge: (sceneId, text) => checkDescription(sceneOf(sceneId), text),
      attributes: (sceneId, text) => attributeCheck(sceneOf(sceneId), text),
    },
  };
}
