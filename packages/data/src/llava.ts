import type { Rng } from '@mllm/core';
import type { Scene } from './scene';
import { caption, detailedDescription } from './language';
import { closedSetQuestions } from './closed-set';

/** One turn of a LLaVA conversation; a `system` turn (some datasets open with one) is context, never trained. */
export interface LlavaTurn {
  from: 'human' | 'gpt' | 'system';
  value: string;
}

/** A sample in LLaVA's conversation format; the first human turn starts with "<image>\n". */
export interface LlavaSample {
  id: string;
  /** A scene id (Shapes world) or an image file path (real datasets). */
  image: string;
  conversations: LlavaTurn[];
}

export const IMAGE_TOKEN = '<image>';

/** Prompts for the caption (alignment) stage; one is chosen per scene. */
export const CAPTION_PROMPTS = [
  'describe the image .',
  'write a short caption for the image .',
  'what do you see in the image ?',
] as const;

export const DETAIL_PROMPT = 'describe the image in detail .';

/** FNV-1a hash of a string, for choosing a prompt deterministically from an id. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function withImage(prompt: string): string {
  return `${IMAGE_TOKEN}\n${prompt}`;
}

/** Caption sample: a caption prompt (chosen by hashing the scene id) answered by caption(scene). */
export function captionSample(scene: Scene): LlavaSample {
  const prompt = CAPTION_PROMPTS[hash(scene.id) % CAPTION_PROMPTS.length]!;
  return {
    id: `${scene.id}-caption`,
    image: scene.id,
    conversations: [
      { from: 'human', value: withImage(prompt) },
      { from: 'gpt', value: caption(scene) },
    ],
  };
}

/**
 * Instruction samples for one scene:
 * - `<id>-exist-<k>`: single-turn existence questions, phrased exactly like POPE;
 * - `<id>-qa`: one multi-turn conversation over the colour, count and spatial questions,
 *   in random order;
 * - `<id>-detail`: "describe the image in detail ." answered by detailedDescription(scene).
 */
export function instructSamples(scene: Scene, rng: Rng): LlavaSample[] {
  const questions = closedSetQuestions(scene, rng);
  const samples: LlavaSample[] = [];
  questions
    .filter((q) => q.type === 'existence')
    .forEach((q, k) => {
      samples.push({
        id: `${scene.id}-exist-${k}`,
        image: scene.id,
        conversations: [
          { from: 'human', value: withImage(q.question) },
          { from: 'gpt', value: q.answer },
        ],
      });
    });
  const rest = rng.shuffle(questions.filter((q) => q.type !== 'existence'));
  samples.push({
    id: `${scene.id}-qa`,
    image: scene.id,
    conversations: rest.flatMap((q, i): LlavaTurn[] => [
      { from: 'human', value: i === 0 ? withImage(q.question) : q.question },
      { from: 'gpt', value: q.answer },
    ]),
  });
  samples.push({
    id: `${scene.id}-detail`,
    image: scene.id,
    conversations: [
      { from: 'human', value: withImage(DETAIL_PROMPT) },
      { from: 'gpt', value: detailedDescription(scene) },
    ],
  });
  return samples;
}
