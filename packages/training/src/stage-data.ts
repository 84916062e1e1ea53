import { Rng } from '@mllm/core';
import {
  ALL_CATEGORIES,
  COLORS,
  SHAPES,
  renderScene,
  sceneSignature,
  existenceQuestion,
  sceneCategories,
  type ObjectCategory,
  captionSample,
  caption,
  detailedDescription,
  closedSetQuestions,
  DETAIL_PROMPT,
  IMAGE_TOKEN,
  type LlavaSample,
  type Scene,
  type ShapesWorld,
  type Split,
} from '@mllm/data';
import { applyChatTemplate, type WordTokenizer } from '@mllm/tokenizer';
import type { TokenizedSample } from '@mllm/model';
import type { StageType } from './run-config';

/** An image with its caption and the scene it shows (the ground truth for region labels). */
export interface ImageTextPair {
  scene: Scene;
  caption: string;
  image: Float32Array;
}

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

  /**
   * One conversation per scene. Instruction batches draw one kind for the whole batch: a
   * batch pads to its longest sample, so mixing short yes/no turns with long descriptions
   * would pay attention cost for the longest in every row.
   */
  conversation(type: StageType, scene: Scene, rng: Rng, kind: InstructKind = pickInstructKind(rng)): LlavaSample {
    if (type === 'align') return captionSample(scene);
    return instructSample(scene, rng, kind);
  }

  tokenize(sample: LlavaSample): TokenizedSample {
    const { ids, lossMask } = applyChatTemplate(this.tokenizer, sample.conversations);
    return { ids, lossMask, images: ids.includes(this.tokenizer.special.image) ? [this.world.image(sample.image)] : [] };
  }

  /**
   * Contrastive pre-training pairs: each sampled scene comes with a near-miss twin (one
   * object's shape, size or colour changed), so the encoder must tell shapes and colours apart
   * rather than win on coarse cues (hard negatives, as in NegCLIP). Twins that coincide
   * with a validation or test scene are dropped, keeping the held-out splits unseen.
   */
  contrastivePairs(rng: Rng, count: number): ImageTextPair[] {
    const heldOut = this.heldOutSignatures();
    const out: ImageTextPair[] = [];
    while (out.length < count) {
      const scene = this.pickScenes(rng, 'train', 1)[0]!;
      out.push({ scene, caption: caption(scene), image: this.world.image(scene.id) });
      if (out.length === count) break;
      const twin = nearMissTwin(scene, rng);
      if (!heldOut.has(sceneSignature(twin))) out.push({ scene: twin, caption: caption(twin), image: renderScene(twin, { imageSize: this.world.imageSize }) });
    }
    return out;
  }

  private heldOut?: Set<string>;
  private heldOutSignatures(): Set<string> {
    this.heldOut ??= new Set([...this.world.scenes('val'), ...this.world.scenes('test')].map(sceneSignature));
    return this.heldOut;
  }

  /**
   * A text-only instruction conversation for LLM pre-training: the instruction sample of
   * `kind` with the scene's caption standing where the image would be. A fusion connector
   * trains inside a frozen LLM, so that LLM must already know the chat format and how to
   * answer from what precedes the question (LLaVA mixes text-only conversations in likewise).
   */
  textConversation(scene: Scene, rng: Rng, kind: InstructKind): TokenizedSample {
    const sample = instructSample(scene, rng, kind);
    const context = caption(scene);
    const conversations = sample.conversations.map((turn) => ({ ...turn, value: turn.value.replace(IMAGE_TOKEN, context) }));
    const { ids, lossMask } = applyChatTemplate(this.tokenizer, conversations);
    return { ids, lossMask, images: [] };
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
 * The scene with one object's shape, size or colour changed. Shape and size get most of
 * the twins: colour is the cue an encoder picks up first anyway.
 */
function nearMissTwin(scene: Scene, rng: Rng): Scene {
  const k = rng.int(scene.objects.length);
  const roll = rng.next();
  const objects = scene.objects.map((o, i) => {
    if (i !== k) return o;
    if (roll < 0.5) return { ...o, shape: rng.pick(SHAPES.filter((s) => s !== o.shape)) };
    if (roll < 0.85) return { ...o, size: o.size === 'small' ? ('large' as const) : ('small' as const) };
    return { ...o, color: rng.pick(COLORS.filter((c) => c !== o.color)) };
  });
  return { id: `${scene.id}-twin`, objects };
}

export type InstructKind = 'existence' | 'qa' | 'caption' | 'detail';

/** The instruction mixture, by share of batches. */
export const INSTRUCT_MIXTURE: readonly [InstructKind, number][] = [
  ['existence', 0.4],
  ['qa', 0.3],
  ['caption', 0.18],
  ['detail', 0.12],
];

/** Colour/count/spatial questions packed into one conversation: the image prefix is paid for once. */
export const QA_TURNS = 3;

export function pickInstructKind(rng: Rng): InstructKind {
  return rng.weighted(Object.fromEntries(INSTRUCT_MIXTURE) as Record<InstructKind, number>);
}

/**
 * A yes/no existence probe, half present, half absent. Half of the absent ones share a
 * colour or a shape with an object in the scene: without such near misses a model learns
 * "some red thing is there" and says yes to every red shape (POPE's adversarial failure).
 */
function existenceProbe(scene: Scene, rng: Rng): { category: ObjectCategory; answer: 'yes' | 'no' } {
  const present = new Set(sceneCategories(scene));
  if (rng.next() < 0.5) return { category: rng.pick([...present]), answer: 'yes' };
  const absent = ALL_CATEGORIES.filter((c) => !present.has(c));
  const nearMiss = absent.filter((c) => scene.objects.some((o) => c.startsWith(`${o.color} `) || c.endsWith(` ${o.shape}`)));
  const pool = nearMiss.length > 0 && rng.next() < 0.5 ? nearMiss : absent;
  return { category: rng.pick(pool), answer: 'no' };
}

/**
 * Instruction samples: a single-turn existence probe phrased exactly like POPE, a multi-turn
 * colour/count/spatial conversation, a short caption, or a detailed description.
 */
function instructSample(scene: Scene, rng: Rng, kind: InstructKind): LlavaSample {
  const withImage = (q: string) => `<image>\n${q}`;
  if (kind === 'caption') return captionSample(scene);
  if (kind === 'detail')
    return { id: `${scene.id}-detail`, image: scene.id, conversations: [{ from: 'human', value: withImage(DETAIL_PROMPT) }, { from: 'gpt', value: detailedDescription(scene) }] };
  if (kind === 'existence') {
    const { category, answer } = existenceProbe(scene, rng);
    return { id: `${scene.id}-exist`, image: scene.id, conversations: [{ from: 'human', value: withImage(existenceQuestion(category)) }, { from: 'gpt', value: answer }] };
  }
  const turns = rng.shuffle(closedSetQuestions(scene, rng).filter((x) => x.type !== 'existence')).slice(0, QA_TURNS);
  return {
    id: `${scene.id}-qa`,
    image: scene.id,
    conversations: turns.flatMap((q, i) => [
      { from: 'human' as const, value: i === 0 ? withImage(q.question) : q.question },
      { from: 'gpt' as const, value: q.answer },
    ]),
  };
}
