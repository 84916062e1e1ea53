import { MllmError, Rng, type ConnectorText } from '@mllm/core';
import { ShapesWorld, chainCorpus, reasoningCorpus, toolCorpus, webCaptionCorpus } from '@mllm/data';
import { generalTextCorpus, instructionCorpus, interleavedCorpus, revisionCorpus } from '@mllm/data/internal';
import { buildModel, type MultimodalModel } from '@mllm/model';
import type { TextTokenizer } from '@mllm/tokenizer';
import { type RunConfig } from '@mllm/training';
import { trainedChainStyle, trainsChainOfThought, trainsGeneralText, trainsRevision } from '@mllm/training/internal';
import { usesInterleaved } from './icl-set';
import { createRegistry, type MllmRegistry } from './registry';
import { DEMONSTRATION_WORDS } from './tools/training-free-prompt';
import { trainTokenizer } from './train-tokenizer';

/** Everything a run is made of, rebuilt the same way for training, evaluation and chat. */
export interface Session {
  config: RunConfig;
  registry: MllmRegistry;
  world: ShapesWorld;
  tokenizer: TextTokenizer;
  model: MultimodalModel;
  /** Set when the new tokenizer met more distinct words than `tokenizer.maxVocab` allows: the rest read as <unk>. */
  vocabCapped?: { words: number; kept: number };
}

/**
 * The Shapes world rendered at the size the encoder takes: its high-resolution input size
 * when it has one (tiles and resize both start from the same large canvas), else imageSize.
 */
export function createWorld(config: RunConfig): ShapesWorld {
  const highRes = config.encoder.highRes as { inputSize?: number } | undefined;
  const imageSize = highRes?.inputSize ?? config.encoder.imageSize;
  if (typeof imageSize !== 'number') throw new MllmError(`encoder type "${config.encoder.type}" does not declare imageSize; the Shapes world needs it to render images`);
  return new ShapesWorld({
    seed: config.seed,
    imageSize,
    objectScale: config.data.objectScale,
    positionGrid: config.data.positionGrid,
    minBrightness: config.data.minBrightness,
    sizes: { train: config.data.train, val: config.data.val, test: config.data.test },
  });
}

/**
 * Builds world, tokenizer and a freshly initialised model from a validated config. A new
 * tokenizer (of the config's kind) learns the world's corpus, the reasoning text when a stage trains chains of
 * thought, the interleaved questions and labels when a stage trains on them or the run evaluates
 * few-shot, and `extraCorpus` (the text of the run's LLaVA files); a run without either gets
 * the same vocabulary, and so the same ids, as before they existed.
 */
export function createSession(config: RunConfig, registry: MllmRegistry = createRegistry(), tokenizer?: TextTokenizer, extraCorpus: readonly string[] = []): Session {
  const world = createWorld(config);
  const reasoning = trainsChainOfThought(config.stages) ? reasoningCorpus(world.scenes('train'), new Rng(config.seed).fork('corpus:reasoning')) : [];
  // chains with positions bring words of their own; only runs that train them learn those
  const chains = trainedChainStyle(config.stages);
  if (chains) reasoning.push(...chainCorpus(world.scenes('train'), new Rng(config.seed).fork('corpus:chains'), chains.carry));
  // a run with tools knows their words (calls, results, errors, demonstrations) whether or not it trains on traces
  const tools = config.tools ? [...toolCorpus(world.scenes('train'), new Rng(config.seed).fork('corpus:tools')), DEMONSTRATION_WORDS.join(' ')] : [];
  const interleaved = usesInterleaved(config) ? interleavedCorpus() : [];
  // every task's phrasings, held-out ones included: their words may be known, the phrasings are never trained
  const instructions = config.data.instructions ? instructionCorpus() : [];
  // general text (pre-training share or a stage's `general` source) uses those words in statements
  const general = trainsGeneralText(config) ? generalTextCorpus(world.scenes('train').slice(0, 64), new Rng(config.seed).fork('corpus:general')) : [];
  // web captions bring page text of their own; only runs that train on them learn those words
  const webCaptions = config.data.captions?.source === 'web' ? webCaptionCorpus() : [];
  const revision = trainsRevision(config.stages) ? revisionCorpus() : [];
  let vocabCapped: Session['vocabCapped'];
  const tok = tokenizer ?? trainTokenizer(config.tokenizer, [...world.corpus(), ...reasoning, ...tools, ...interleaved, ...instructions, ...general, ...webCaptions, ...revision, ...extraCorpus], (info) => (vocabCapped = info));
  const model = buildModel(config as unknown as Record<string, unknown>, {
    registry,
    vocabSize: tok.vocabSize,
    special: { imageTokenId: tok.special.image, padId: tok.special.pad },
    seed: config.seed,
    text: connectorText(tok),
  });
  return { config, registry, world, tokenizer: tok, model, ...(vocabCapped && { vocabCapped }) };
}

/** The tokenizer as a connector that writes words for the LLM sees it (the expert bridge). */
export function connectorText(tokenizer: TextTokenizer): ConnectorText {
  return { encode: (text) => tokenizer.encode(text), padId: tokenizer.special.pad, unknownWords: (text) => tokenizer.unknownWords(text) };
}
