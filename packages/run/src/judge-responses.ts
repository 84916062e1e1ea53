import { detailedDescription, type Scene } from '@mllm/data';
import { hallucinatedDescription, type ResponseEdit } from '@mllm/data/internal';
import type { Rng } from '@mllm/core';
import { exactVerdict } from './judge-exact';

/**
 * Responses for training and measuring a hallucination judge: @mllm/data's descriptions with
 * injected hallucinations (hallucinated-description.ts), each labelled by what the exact checker
 * says of the finished text, never by the recipe.
 */
export interface JudgeResponse {
  sceneId: string;
  /** The scene's ground-truth detailed description: what a text-only judge reads instead of the image. */
  reference: string;
  response: string;
  /** What the exact checker says of `response` (the label). */
  hallucinates: boolean;
  /** 10 x the response's FaithScore; undefined when it states no fact. */
  score?: number;
  /** The edits injected (empty for a faithful draft); for analysis only, never the label. */
  edits: ResponseEdit[];
}

/** One response about `scene`, labelled by the exact checker; now and then the short caption grammar. */
export function judgeResponse(scene: Scene, rng: Rng): JudgeResponse {
  const reference = detailedDescription(scene);
  const { text, edits } = hallucinatedDescription(scene, rng);
  return { sceneId: scene.id, reference, response: text, ...exactVerdict(scene, text), edits };
}

/** `perScene` responses for each scene, in scene order. */
export function judgeResponses(scenes: readonly Scene[], perScene: number, rng: Rng): JudgeResponse[] {
  return scenes.flatMap((scene) => Array.from({ length: perScene }, () => judgeResponse(scene, rng)));
}

/** A response a model gave (a run's detailed description), labelled the same way. */
export function modelResponse(scene: Scene, text: string): JudgeResponse {
  return { sceneId: scene.id, reference: detailedDescription(scene), response: text, ...exactVerdict(scene, text), edits: [] };
}
