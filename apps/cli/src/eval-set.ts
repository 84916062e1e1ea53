import { Rng } from '@mllm/core';
import { CAPTION_PROMPTS, closedSetQuestions, popeQuestions, type ShapesWorld } from '@mllm/data';
import type { EvalSet, PopeSampling } from '@mllm/eval';
import type { RunConfig } from '@mllm/training';

/** The test-split questions: closed-set per scene, POPE in all three samplings, one caption prompt. */
export function buildEvalSet(world: ShapesWorld, config: RunConfig): EvalSet {
  const scenes = world.scenes('test').slice(0, config.eval.scenes ?? Infinity);
  const rng = new Rng(config.seed).fork('eval');
  const pope = {} as EvalSet['pope'];
  for (const sampling of ['random', 'popular', 'adversarial'] as PopeSampling[]) {
    pope[sampling] = popeQuestions(scenes, { sampling, perImage: config.eval.popePerImage, rng: rng.fork(sampling), stats: world.stats });
  }
  return {
    scenes: [...scenes],
    closedSet: scenes.flatMap((scene) => closedSetQuestions(scene, rng).map((q) => ({ sceneId: scene.id, ...q }))),
    pope,
    captionPrompt: CAPTION_PROMPTS[0],
  };
}
