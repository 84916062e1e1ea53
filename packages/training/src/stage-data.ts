import { Rng } from '@mllm/core';
import {
  ALL_CATEGORIES,
  COLORS,
  SHAPES,
  sceneCategories,
  type ObjectCategory,
  captionSample,
  caption,
  detailedDescription,
  closedSetQuestions,
  DETAIL_PROMPT,
  IMAGE_TOKEN,
  reasoningQuestions,
  buildChain,
  infillingTurn,
  type ReasoningQuestion,
  toolTraceSample,
  type LlavaSample,
  type Scene,
  type ShapesWorld,
  type Split,
} from '@mllm/data';
import { withReasoningPrompt, counterfactualChain, sceneSignature, existenceQuestion, generalText, revisionSample } from '@mllm/data/internal';
import { applyChatTemplate, type TextTokenizer } from '@mllm/tokenizer';
import type { MultimodalModel, TokenizedSample } from '@mllm/model';
import type { StageConfig, StageType } from './run-config';
import type { ChainOfThought } from './chain-of-thought-option';
import { untrainReplyWords, type ChainSample } from './untrained-words';
import { StageMixture, sourceLabel, stageSources, type MixtureSource } from './data-mixture';
import { LlavaSources, type LlavaPrepareOptions } from './llava-source';
import { InstructionData } from './instruction-data';
import type { InstructionsConfig } from './instructions-option';
import type { CaptionDataConfig } from './caption-data-schema';
import type { CaptionPool } from './caption-pool';

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
  private readonly mixtures = new Map<number, StageMixture<MixtureEntry>>();
  /** The instruct questions under `data.instructions`, when the run sets it. */
  readonly instructions?: InstructionData;
  /** The run's `data.captions`; absent, align stages train on the world's fine-grained captions. */
  captionConfig?: CaptionDataConfig;
  /** The align stages' caption pool, built from captionConfig when the first of them starts (caption-pool.ts). */
  captions?: CaptionPool;

  constructor(
    readonly world: ShapesWorld,
    readonly tokenizer: TextTokenizer,
    readonly seed: number,
    /** The LLaVA files of the run's mixtures; share one with the code that trained the tokenizer on them. */
    readonly llava: LlavaSources = new LlavaSources(),
    /** `data.instructions`: instruct batches phrased (or self-instructed) under its task and phrasing split; absent, as always. */
    instructionsConfig?: InstructionsConfig,
  ) {
    if (instructionsConfig) this.instructions = new InstructionData(instructionsConfig, world, seed, (text) => tokenizer.unknownWords(text));
  }

  /**
   * Makes a stage's mixture ready before its synchronous step loop: LLaVA records tokenized and
   * their images decoded at the size the model takes its images, the world's (see LlavaSources
   * for the memory this holds). A stage without `data` has no mixture.
   */
  async prepareStage(stage: StageConfig, index: number, model: Pick<MultimodalModel, 'batchOptions'> & Partial<Pick<MultimodalModel, 'encoder'>>): Promise<void> {
    const sources = stageSources(stage);
    if (sources.length === 0) return;
    // the world renders at the encoder's input size (a high-resolution encoder's large input included)
    const options: LlavaPrepareOptions = { tokenizer: this.tokenizer, imageSize: this.world.imageSize, tokensPerImage: model.batchOptions.tokensPerImage };
    // a tiled encoder takes each file image at the canvas of its aspect ratio's grid
    const encoder = model.encoder;
    if (encoder?.strategy === 'tiles' && encoder.canvasFor && model.batchOptions.tokensFor) {
      options.canvasFor = (width, height) => encoder.canvasFor!(width, height);
      options.tokensFor = model.batchOptions.tokensFor;
    }
    const entries: MixtureEntry[] = [];
    for (const source of sources) {
      const entry: MixtureEntry = { label: sourceLabel(source), weight: source.weight, source };
      if (source.source === 'llava') {
        entry.train = await this.llava.samples(source, 'file', options);
        if (source.valFile !== undefined) entry.val = await this.llava.samples(source, 'valFile', options);
      }
      entries.push(entry);
    }
    this.mixtures.set(index, new StageMixture(entries));
  }

  /** The stage's mixture once prepareStage has run; undefined for a stage without `data`. */
  mixture(index: number): StageMixture<MixtureEntry> | undefined {
    return this.mixtures.get(index);
  }

  /**
   * A batch of a non-Shapes mixture source: text-only conversations (one instruct kind per batch,
   * as for images) or LLaVA records drawn with replacement (the validation file's on 'val').
   */
  sourceSamples(entry: MixtureEntry, rng: Rng, split: Split, count: number): TokenizedSample[] {
    if (entry.source.source === 'text') {
      const scenes = this.pickScenes(rng, split, count);
      const kind = pickInstructKind(rng);
      return scenes.map((scene) => this.textConversation(scene, rng, kind));
    }
    if (entry.source.source === 'general') return this.pickScenes(rng, split, count).map((scene) => this.plainText(generalText(scene, rng)));
    const pool = (split === 'train' ? entry.train : (entry.val ?? entry.train)) ?? [];
    if (pool.length === 0) throw new Error(`StageData: ${entry.label} has no prepared samples; call prepareStage before the step loop`);
    return Array.from({ length: count }, () => pool[rng.int(pool.length)]!);
  }

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
  conversation(type: StageType, scene: Scene, rng: Rng, kind: InstructKind = pickInstructKind(rng), chains?: ChainOfThought): LlavaSample {
    if (type === 'align') return captionSample(scene);
    if (type === 'instruct' && this.instructions?.replaces(kind)) return this.instructions.sample(scene, rng, kind);
    return instructSample(scene, rng, kind, chains);
  }

  tokenize(sample: LlavaSample): TokenizedSample {
    const { ids, lossMask } = applyChatTemplate(this.tokenizer, sample.conversations);
    const untrained = (sample as ChainSample).untrainedWords;
    if (untrained?.length) untrainReplyWords(this.tokenizer, sample.conversations.at(-1)!.value, untrained, ids, lossMask);
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
      if (!heldOut.has(sceneSignature(twin))) out.push({ scene: twin, caption: caption(twin), image: this.world.render(twin) });
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
    const sample = this.instructions?.replaces(kind) ? this.instructions.sample(scene, rng, kind) : instructSample(scene, rng, kind);
    const context = caption(scene);
    const conversations = sample.conversations.map((turn) => ({ ...turn, value: turn.value.replace(IMAGE_TOKEN, context) }));
    const { ids, lossMask } = applyChatTemplate(this.tokenizer, conversations);
    return { ids, lossMask, images: [] };
  }

  /** Image-free text for LLM pre-training: captions, descriptions, question-answer pairs. */
  text(scene: Scene, rng: Rng): TokenizedSample {
    const generalShare = this.instructions?.config.generalText ?? 0;
    const roll = rng.next();
    let text: string;
    // drawn only when the share is set, so every run without it keeps its text stream
    if (generalShare > 0 && rng.next() < generalShare) text = generalText(scene, rng);
    else if (roll < 0.4) text = caption(scene);
    else if (roll < 0.6) text = detailedDescription(scene);
    else {
      const q = rng.pick(closedSetQuestions(scene, rng));
      text = `${q.question} ${q.answer}`;
    }
    return this.plainText(text);
  }

  /** Text as a language-model sample: no image, no chat template, loss on every token after BOS. */
  plainText(text: string): TokenizedSample {
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

/**
 * `chain`: one reasoning question asked with "think step by step ." and answered by its chain;
 * `reasoning-qa`: reasoning questions asked directly, several per conversation like `qa`. Both
 * are drawn only by a stage's `chainOfThought` share, never by INSTRUCT_MIXTURE.
 */
export type InstructKind = 'existence' | 'qa' | 'caption' | 'detail' | 'chain' | 'reasoning-qa' | 'tool-trace' | 'revise';

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
 * The instruct kind of a batch with a `chainOfThought` share: that share of batches are
 * reasoning batches, half with chains and half direct. The extra draws happen only when the
 * share is > 0, so a stage without it sees exactly the batches it saw before.
 */
export function pickStageKind(rng: Rng, chainOfThought: number): InstructKind {
  if (chainOfThought > 0 && rng.next() < chainOfThought) return rng.next() < 0.5 ? 'chain' : 'reasoning-qa';
  return pickInstructKind(rng);
}

/** A tool-trace batch by a stage's `toolUse` share; rolled only when the share is > 0, so other runs keep their batches. */
export function pickToolKind(rng: Rng, toolUse: number): InstructKind | undefined {
  return toolUse > 0 && rng.next() < toolUse ? 'tool-trace' : undefined;
}

/** A revision batch by a stage's `revise` share; rolled only when the share is > 0, so other runs keep their batches. */
export function pickReviseKind(rng: Rng, revise: number): InstructKind | undefined {
  return revise > 0 && rng.next() < revise ? 'revise' : undefined;
}

/** Whether any instruct stage trains revision (the run's vocabulary then has the revise prompt's words). */
export function trainsRevision(stages: readonly StageConfig[]): boolean {
  return stages.some((s) => s.type === 'instruct' && s.revise > 0);
}

/** Whether a run trains chain-of-thought answers (then its tokenizer and evaluation need the reasoning text). */
export function trainsChainOfThought(stages: readonly StageConfig[]): boolean {
  return stages.some((s) => s.type === 'instruct' && s.chainOfThought.share > 0);
}

/** The chains the run's instruct stages train with positions (`single` / `tree`), or undefined when none does. */
export function trainedChainStyle(stages: readonly StageConfig[]): ChainOfThought | undefined {
  return stages.flatMap((s) => (s.type === 'instruct' && s.chainOfThought.share > 0 && s.chainOfThought.style !== 'objects' ? [s.chainOfThought] : []))[0];
}

/** One mixture source of a prepared stage: its config and, for LLaVA files, the prepared samples. */
export interface MixtureEntry {
  label: string;
  weight: number;
  source: MixtureSource;
  train?: TokenizedSample[];
  val?: TokenizedSample[];
}

/**
 * The sources a stage's validation loss covers: the generated ones (their val split) and LLaVA
 * sources with a `valFile`; when only LLaVA sources without one remain, their training records
 * (not held out, so that loss only tracks fitting).
 */
export function validationEntries(mixture: StageMixture<MixtureEntry>): MixtureEntry[] {
  const heldOut = mixture.sources.filter((e) => e.source.source !== 'llava' || e.val !== undefined);
  return heldOut.length > 0 ? heldOut : [...mixture.sources];
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
 * A chain sample's prompt and reply: the original chain (`objects`, or no options), a chain
 * with positions in the predicting pattern, or (by the `infilling` share) in the infilling one;
 * by the `counterfactual` share, a chain whose altered descriptions (`untrainedWords`) carry no loss.
 */
function chainTurn(scene: Scene, q: ReasoningQuestion, rng: Rng, chains?: ChainOfThought): { prompt: string; reply: string; untrainedWords?: number[] } {
  if (!chains || chains.style === 'objects') return { prompt: withReasoningPrompt(q.question), reply: q.chain };
  const options = { style: chains.style, length: chains.length, carry: chains.carry };
  if (chains.infilling > 0 && rng.next() < chains.infilling) return infillingTurn(scene, q, options, rng);
  // drawn only where the share is set, so runs without it keep their sample stream
  const counterfactual = chains.counterfactual > 0 && rng.next() < chains.counterfactual ? counterfactualChain(scene, q, options, rng) : undefined;
  if (counterfactual) return { prompt: withReasoningPrompt(q.question), reply: counterfactual.reply, untrainedWords: counterfactual.untrainedWords };
  return { prompt: withReasoningPrompt(q.question), reply: buildChain(scene, q, options) };
}

/**
 * Instruction samples: a single-turn existence probe phrased exactly like POPE, a multi-turn
 * colour/count/spatial conversation, a short caption, a detailed description, or (by a
 * stage's chainOfThought share) a reasoning question with its chain or several asked directly.
 */
function instructSample(scene: Scene, rng: Rng, kind: InstructKind, chains?: ChainOfThought): LlavaSample {
  const withImage = (q: string) => `<image>\n${q}`;
  if (kind === 'caption') return captionSample(scene);
  if (kind === 'tool-trace') return toolTraceSample(scene, rng);
  if (kind === 'revise') return revisionSample(scene, rng);
  if (kind === 'chain') {
    const q = rng.pick(reasoningQuestions(scene, rng));
    const turn = chainTurn(scene, q, rng, chains);
    const sample: ChainSample = { id: `${scene.id}-chain`, image: scene.id, conversations: [{ from: 'human', value: withImage(turn.prompt) }, { from: 'gpt', value: turn.reply }] };
    if (turn.untrainedWords) sample.untrainedWords = turn.untrainedWords;
    return sample;
  }
  if (kind === 'detail')
    return { id: `${scene.id}-detail`, image: scene.id, conversations: [{ from: 'human', value: withImage(DETAIL_PROMPT) }, { from: 'gpt', value: detailedDescription(scene) }] };
  if (kind === 'existence') {
    const { category, answer } = existenceProbe(scene, rng);
    return { id: `${scene.id}-exist`, image: scene.id, conversations: [{ from: 'human', value: withImage(existenceQuestion(category)) }, { from: 'gpt', value: answer }] };
  }
  const pool = kind === 'reasoning-qa' ? reasoningQuestions(scene, rng) : closedSetQuestions(scene, rng).filter((x) => x.type !== 'existence');
  const turns = rng.shuffle(pool).slice(0, QA_TURNS);
  return {
    id: `${scene.id}-${kind}`,
    image: scene.id,
    conversations: turns.flatMap((q, i) => [
      { from: 'human' as const, value: i === 0 ? withImage(q.question) : q.question },
      { from: 'gpt' as const, value: q.answer },
    ]),
  };
}
