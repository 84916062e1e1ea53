import * as tf from '@tensorflow/tfjs';
import { collatePrompts, type TokenizedSample } from './batch';
import type { MultimodalModel } from './multimodal-model';

/** Picks each row's next token from its last-position logits [B][V]. */
export type PickTokens = (logits: number[][]) => number[];

const argmaxRows: PickTokens = (logits) => logits.map((row) => row.indexOf(Math.max(...row)));

/**
 * Decoding the slow, obviously right way: the whole sequence through `forward` at every step, no
 * KV cache, each step's tokens chosen by `pick` (default greedy; pass a `TokenPicker`'s pick to
 * sample as `generate` does). Tests compare `generate` (cached) against it.
 */
export function decodeByRecompute(model: MultimodalModel, prompts: TokenizedSample[], steps: number, pick: PickTokens = argmaxRows): number[][] {
  const batch = collatePrompts(prompts, model.batchOptions);
  const ids = batch.inputIds.map((r) => [...r]);
  const mask = batch.attentionMask.map((r) => [...r]);
  for (let step = 0; step < steps; step++) {
    const logits = model.forward({ ...batch, inputIds: ids, attentionMask: mask });
    const last = tf.tidy(() => logits.slice([0, ids[0]!.length - 1, 0], [-1, 1, -1]).squeeze([1]).arraySync() as number[][]);
    logits.dispose();
    const next = pick(last);
    ids.forEach((row, i) => row.push(next[i]!));
    mask.forEach((row) => row.push(1));
  }
  return ids.map((r) => r.slice(batch.inputIds[0]!.length));
}

/** Greedy decoding by full recompute. */
export function greedyByRecompute(model: MultimodalModel, prompts: TokenizedSample[], steps: number): number[][] {
  return decodeByRecompute(model, prompts, steps);
}
