import { Rng } from '@mllm/core';
import { captionSample, caption, detailedDescription, closedSetQuestions, type LlavaSample, type Scene, type ShapesWorld, type Split } from '@mllm/data';
import { applyChatTemplate, type WordTokenizer } from '@mllm/tokenizer';
import type { TokenizedSample } from '@mllm/model';
import type { StageType } from './run-config';

/**
 * Per-step data for each stage type. A batch depends only on (seed, stage, step), so an
 * interrupted stage resumed from a checkpoint sees exactly the batches it would have seen.
 */
export class StageData {
  constructor(
    readonly world: ShapesWorld,
    readonly tokenizer: WordTokenizer,
    readonly seed: number,
  ) {}

  rngFor(stageIndex: number, step: number, split: Split = 'train'): Rng {
    return new Rng(this.seed).fork(`stage${stageIndex}:${split}`).fork(`step${step}`);
  }

  pickScenes(rng: Rng, split: Split, count: number): Scene[] {
    const scenes = this.world.scenes(split);
    return Array.from({ length: count }, () => scenes[rng.int(scenes.length)]!);
  }

  /** One conversation per scene for a given stage type. */
  conversation(type: StageType, scene: Scene, rng: Rng): LlavaSample {
    if (type === 'align') return captionSample(scene);
    return instructMixture(scene, rng);
  }

  tokenize(sample: LlavaSample): TokenizedSample {
    const { ids, lossMask } = applyChatTemplate(this.tokenizer, sample.conversations);
    return { ids, lossMask, images: ids.includes(this.tokenizer.special.image) ? [this.world.image(sample.image)] : [] };
  }

  /** Image-free text for LLM pre-training: captions, descriptions, question-answer pairs. */
  text(scene: Scene, rng: Rng): TokenizedSample {
    const roll = rng.next();
    let text: string;
    if (roll < 0.4) text = caption(scene);
    else if (roll < 0.6) text = detailedDescription(scene);
    else {
      const q = rng.pick(closedSetQuestions(scene, rng));
      text = `${q.question} ${q.answer}`;
    }
    const { bos, eos } = this.tokenizer.special;
    const ids = [bos, ...this.tokenizer.encode(text), eos];
    return { ids, lossMask: ids.map((_, i) => (i === 0 ? 0 : 1)), images: [] };
  }
}

/**
 * The instruction mixture: existence questions phrased like POPE, a multi-turn
 * colour/count/spatial conversation, a short caption or a detailed description.
 */
function instructMixture(scene: Scene, rng: Rng): LlavaSample {
  const roll = rng.next();
  const withImage = (q: string) => `<image>\n${q}`;
  const questions = closedSetQuestions(scene, rng);
  if (roll < 0.4) {
    const q = rng.pick(questions.filter((x) => x.type === 'existence'));
    return { id: `${scene.id}-exist`, image: scene.id, conversations: [{ from: 'human', value: withImage(q.question) }, { from: 'gpt', value: q.answer }] };
  }
  if (roll < 0.7) {
    const rest = rng.shuffle(questions.filter((x) => x.type !== 'existence')).slice(0, 3);
    return {
      id: `${scene.id}-qa`,
      image: scene.id,
      conversations: rest.flatMap((q, i) => [
        { from: 'human' as const, value: i === 0 ? withImage(q.question) : q.question },
        { from: 'gpt' as const, value: q.answer },
      ]),
    };
  }
  if (roll < 0.88) return captionSample(scene);
  return { id: `${scene.id}-detail`, image: scene.id, conversations: [{ from: 'human', value: withImage('describe the image in detail .') }, { from: 'gpt', value: detailedDescription(scene) }] };
}
