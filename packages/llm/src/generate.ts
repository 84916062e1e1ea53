import * as tf from '@tensorflow/tfjs';
import type { LanguageModel, LayerFusion, Rng } from '@mllm/core';
import { createKvCache, disposeKvCache } from './kv-cache';

export interface GenerateOptions {
  maxNewTokens: number;
  /** Generation of a row ends at the first of these ids (it is not included in the output). */
  stopTokens: number[];
  /** 0 (default) = greedy. */
  temperature?: number;
  topK?: number;
  /** Required when temperature > 0, so sampling is reproducible. */
  rng?: Rng;
  /**
   * Ids never to emit (HF's suppress_tokens), e.g. an image placeholder or role tokens that a
   * sampled answer must not contain: their logits are set to -Infinity before picking.
   */
  suppressTokens?: number[];
}

/**
 * Autoregressive decoding with a KV cache: one prefill over the prompt embeddings,
 * then one token per step. Prompts are left-padded so every row's next token sits at the end.
 * `fusion` hooks (a fusion connector bound to the prompt images) go into every step: the
 * cache holds only self-attention keys/values, so the visual context must come again each time.
 */
export function generateFromEmbeddings(
  lm: LanguageModel,
  prompt: { embeds: tf.Tensor3D; attentionMask: number[][]; fusion?: LayerFusion },
  options: GenerateOptions,
): number[][] {
  const b = prompt.embeds.shape[0];
  const temperature = options.temperature ?? 0;
  if (temperature > 0 && !options.rng) throw new Error('generate: sampling with temperature > 0 needs options.rng (a seeded Rng)');
  const outputs: number[][] = Array.from({ length: b }, () => []);
  const done = new Array<boolean>(b).fill(false);
  const cache = createKvCache();
  try {
    let logits = tf.tidy(() => {
      const { logits: all } = lm.forward(prompt.embeds, { attentionMask: prompt.attentionMask, cache, fusion: prompt.fusion });
      return all.slice([0, all.shape[1] - 1, 0], [-1, 1, -1]).reshape([b, lm.vocabSize]);
    });
    for (let step = 0; step < options.maxNewTokens; step++) {
      const rows = logits.arraySync() as number[][];
      logits.dispose();
      if (options.suppressTokens) for (const row of rows) for (const id of options.suppressTokens) row[id] = -Infinity;
      const next = rows.map((row) => pickToken(row, temperature, options.topK, options.rng));
      next.forEach((id, i) => {
        if (done[i]) return;
        if (options.stopTokens.includes(id)) done[i] = true;
        else outputs[i]!.push(id);
      });
      if (done.every(Boolean) || step === options.maxNewTokens - 1) break;
      logits = tf.tidy(() => {
        const embeds = lm.embed(tf.tensor2d(next, [b, 1], 'int32'));
        const { logits: all } = lm.forward(embeds, { attentionMask: next.map(() => [1]), cache, fusion: prompt.fusion });
        return all.reshape([b, lm.vocabSize]);
      });
    }
  } finally {
    disposeKvCache(cache);
  }
  return outputs;
}

function pickToken(logits: number[], temperature: number, topK: number | undefined, rng: Rng | undefined): number {
  if (temperature <= 0) return logits.reduce((best, v, i) => (v > logits[best]! ? i : best), 0);
  const order = logits.map((v, i) => [v / temperature, i] as const).sort((a, b) => b[0] - a[0]);
  const kept = order.slice(0, topK ?? order.length);
  const max = kept[0]![0];
  const weights = kept.map(([v]) => Math.exp(v - max));
  let r = rng!.next() * weights.reduce((a, w) => a + w, 0);
  for (let i = 0; i < kept.length; i++) {
    r -= weights[i]!;
    if (r <= 0) return kept[i]![1];
  }
  return kept[kept.length - 1]![1];
}
