import { Rng } from '@mllm/core';
import { CausalLM, causalLmSchema } from './causal-lm';

/** The vocabulary of the small test LMs. */
export const TEST_VOCAB = 40;

/** A small GQA causal LM (width 16, 4 heads over 2 key/value heads) for generation tests. */
export function smallCausalLm(seed: number, layers = 2): CausalLM {
  return new CausalLM(causalLmSchema.parse({ type: 'causal', dim: 16, layers, heads: 4, kvHeads: 2 }), TEST_VOCAB, new Rng(seed));
}

/** Two left-padded rows, so cached positions and masks are exercised. */
export const TWO_ROW_IDS = [
  [0, 0, 5, 9, 12],
  [7, 3, 3, 20, 31],
];
export const TWO_ROW_MASK = [
  [0, 0, 1, 1, 1],
  [1, 1, 1, 1, 1],
];
