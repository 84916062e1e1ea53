import type { ComponentRegistry } from '@mllm/core';
import { CausalLM, causalLmSchema } from './causal-lm';
import { PrefixLM, prefixLmSchema } from './prefix-lm';
import { EncoderDecoderLM, encoderDecoderLmSchema } from './encoder-decoder-lm';

/** Adds this package's LLM backbone types to a registry. */
export function registerLlms(registry: Pick<ComponentRegistry, 'llms'>): void {
  registry.llms.register('causal', causalLmSchema, (config, { rng, vocabSize }) => new CausalLM(config, vocabSize, rng));
  registry.llms.register('prefix', prefixLmSchema, (config, { rng, vocabSize }) => new PrefixLM(config, vocabSize, rng));
  registry.llms.register('encoder-decoder', encoderDecoderLmSchema, (config, { rng, vocabSize }) => new EncoderDecoderLM(config, vocabSize, rng));
}
