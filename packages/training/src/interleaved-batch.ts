import type { Rng } from '@mllm/core';
import { interleavedSequence, type InterleavedPair, type Split } from '@mllm/data';
import type { TokenizedSample } from '@mllm/model';
import { applyChatTemplate } from '@mllm/tokenizer';
import type { StageConfig } from './run-config';
import type { StageData } from './stage-data';

/**
 * Interleaved batches of an instruct stage with an `interleaved` share: each row is one
 * sequence of several (image, question, answer) pairs, laid out as a multi-turn conversation
 * with one image per human turn (the layout few-shot prompts use), every answer trained.
 */

/**
 * Whether this step's batch is interleaved. Drawn from a fork of the step's stream, which leaves
 * the stream itself untouched: a step that is not interleaved draws exactly the batch it drew
 * before the share existed.
 */
export function drawsInterleaved(share: number, rng: Rng): boolean {
  return share > 0 && rng.fork('interleaved').next() < share;
}

/** The pairs as chat turns: "<image>\n<question>" from the human, the answer from the model, in order. */
export function interleavedTurns(pairs: readonly Pick<InterleavedPair, 'question' | 'answer'>[]): { from: 'human' | 'gpt'; value: string }[] {
  return pairs.flatMap((p) => [
    { from: 'human' as const, value: `<image>\n${p.question}` },
    { from: 'gpt' as const, value: p.answer },
  ]);
}

/** One tokenized interleaved sequence about scenes of `split`, its images in `<image>` order. */
export function interleavedSample(data: StageData, rng: Rng, split: Split): TokenizedSample {
  const pairs = interleavedSequence(data.world.scenes(split), rng);
  const { ids, lossMask } = applyChatTemplate(data.tokenizer, interleavedTurns(pairs));
  return { ids, lossMask, images: pairs.map((p) => data.world.image(p.sceneId)) };
}

/** A batch of `count` interleaved sequences. */
export function interleavedBatch(data: StageData, rng: Rng, split: Split, count: number): TokenizedSample[] {
  return Array.from({ length: count }, () => interleavedSample(data, rng, split));
}

/** Whether a run trains on interleaved sequences (then its tokenizer needs their words). */
export function trainsInterleaved(stages: readonly StageConfig[]): boolean {
  return stages.some((s) => s.type === 'instruct' && s.interleaved > 0);
}
