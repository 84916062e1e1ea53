import type { Rng } from '@mllm/core';
import { hallucinatedDescription } from './hallucinated-description';
import { detailedDescription } from './language';
import { IMAGE_TOKEN, type LlavaSample } from './llava';
import { COLORS, SHAPES, type Scene } from './scene';

/**
 * Training data for a LURE-style revisor (Zhou et al. 2023, "Analyzing and Mitigating Object
 * Hallucination in Large Vision-Language Models", arXiv:2310.00754): the model sees the image and
 * a description that may hallucinate, and answers with the true description. LURE builds the
 * inputs from true descriptions by adding objects that co-occur with those present and by
 * masking the objects a model is unsure of, or names late, with "[IDK]"; here the added objects,
 * wrong attributes, counts and relations come from hallucinatedDescription, and objects in the
 * second half of the text are masked with `idk` (LURE's position factor: late objects
 * hallucinate more), so the revisor learns both to fix and to fill in from the image.
 */
export const REVISE_PROMPT = 'revise the description :';

/** LURE's "[IDK]", one word of the vocabulary: an object the revisor must read from the image. */
export const UNSURE_OBJECT = 'idk';

/** Share of the objects in a description's second half that are masked. */
const MASK_LATE = 0.3;

/** The revisor's prompt for `description`. */
export function revisePrompt(description: string): string {
  return `${REVISE_PROMPT} ${description}`;
}

const NAMED_OBJECT = new RegExp(`\\b(?:${COLORS.join('|')}) (?:${SHAPES.join('|')})\\b`, 'g');

/** `text` with each "colour shape" in its second half replaced by `idk`, with probability `share`. */
export function maskLateObjects(text: string, rng: Rng, share = MASK_LATE): string {
  const half = text.length / 2;
  return text.replace(NAMED_OBJECT, (named: string, at: number) => (at >= half && rng.next() < share ? UNSURE_OBJECT : named));
}

/** One revision pair: the image and a (possibly) hallucinated, partly masked description, answered by the true one. */
export function revisionSample(scene: Scene, rng: Rng): LlavaSample {
  const { text } = hallucinatedDescription(scene, rng);
  return {
    id: `${scene.id}-revise`,
    image: scene.id,
    conversations: [
      { from: 'human', value: `${IMAGE_TOKEN}\n${revisePrompt(maskLateObjects(text, rng))}` },
      { from: 'gpt', value: detailedDescription(scene) },
    ],
  };
}

/** The words revision adds to a run's vocabulary. */
export function revisionCorpus(): string[] {
  return [revisePrompt(UNSURE_OBJECT)];
}
