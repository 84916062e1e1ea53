import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CheckpointError, MllmError, Rng, loadSafetensors, type ComponentRegistry } from '@mllm/core';
import { ShapesWorld, reasoningCorpus } from '@mllm/data';
import { buildModel, createRegistry, type MultimodalModel } from '@mllm/model';
import { WordTokenizer, loadTokenizer } from '@mllm/tokenizer';
import { parseRunConfig, trainsChainOfThought, type RunConfig } from '@mllm/training';

/** Everything a run is made of, rebuilt the same way for training, evaluation and chat. */
export interface Session {
  config: RunConfig;
  registry: ComponentRegistry;
  world: ShapesWorld;
  tokenizer: WordTokenizer;
  model: MultimodalModel;
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
 * tokenizer learns the world's corpus, the reasoning text when a stage trains chains of
 * thought, and `extraCorpus` (the text of the run's LLaVA files); a run without either gets
 * the same vocabulary, and so the same ids, as before they existed.
 */
export function createSession(config: RunConfig, registry = createRegistry(), tokenizer?: WordTokenizer, extraCorpus: readonly string[] = []): Session {
  const world = createWorld(config);
  const reasoning = trainsChainOfThought(config.stages) ? reasoningCorpus(world.scenes('train'), new Rng(config.seed).fork('corpus:reasoning')) : [];
  const tok = tokenizer ?? WordTokenizer.train([...world.corpus(), ...reasoning, ...extraCorpus], { minFrequency: config.tokenizer.minFrequency });
  const model = buildModel(config as unknown as Record<string, unknown>, {
    registry,
    vocabSize: tok.vocabSize,
    special: { imageTokenId: tok.special.image, padId: tok.special.pad },
    seed: config.seed,
  });
  return { config, registry, world, tokenizer: tok, model };
}

/** Re-opens a finished run folder: its config, tokenizer and trained weights. */
export async function openRun(dir: string): Promise<Session> {
  const configPath = join(dir, 'config.json');
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(configPath, 'utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CheckpointError(configPath, code === 'ENOENT' ? 'not found; pass the folder of a finished `mllm run`' : `is not valid JSON (${(e as Error).message})`);
  }
  const registry = createRegistry();
  const config = parseRunConfig(raw, registry);
  const tokenizer = await loadTokenizer(dir); // the word vocabulary, or the HF tokenizer a run started from
  const session = createSession(config, registry, tokenizer);
  const weights = join(dir, 'model.safetensors');
  const { tensors } = await loadSafetensors(weights);
  session.model.loadStateDict(tensors, { source: weights });
  for (const t of Object.values(tensors)) t.dispose();
  session.model.eval();
  return session;
}
