import type { ComponentRegistry } from '@mllm/core';
import { CausalLM, causalLmSchema } from './causal-lm';

/** Adds this package's LLM backbone types to a registry. */
export function registerLlms(registry: Pick<ComponentRegistry, 'llms'>): void {
  registry.llms.register('causal', causalLmSchema, (config, { rng, vocabSize }) => new CausalLM(config, vocabSize, rng));
}
