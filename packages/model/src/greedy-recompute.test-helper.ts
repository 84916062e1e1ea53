import * as tf from '@tensorflow/tfjs';
import { collatePrompts, type TokenizedSample } from './batch';
import type { MultimodalModel } from './multimodal-model';

/**
 * Greedy decoding the slow, obviously right way: the whole sequence through `forward` at
 * every step, no KV cache. Tests compare `generate` (cached) against it.
 */
export function greedyByRecompute(model: MultimodalModel, prompts: TokenizedSample[], steps: number): number[][] {
  const batch = collatePrompts(prompts, model.batchOptions);
  const ids = batch.inputIds.map((r) => [...r]);
  const mask = batch.attentionMask.map((r) => [...r]);
  for (let step = 0; step < steps; step++) {
    const logits = model.forward({ ...batch, inputIds: ids, attentionMask: mask });
    const next = tf.tidy(() => logits.slice([0, ids[0]!.length - 1, 0], [-1, 1, -1]).argMax(-1).dataSync());
    logits.dispose();
    ids.forEach((row, i) => row.push(next[i]!));
    mask.forEach((row) => row.push(1));
  }
  return ids.map((r) => r.slice(batch.inputIds[0]!.length));
}
