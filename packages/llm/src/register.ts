import type { ComponentRegistry } from '@mllm/core';
import { CausalLM, causalLmSchema } from './causal-lm';
import { PrefixLM, prefixLmSchema } from './prefix-lm';
import { EncoderDecoderLM, encoderDecoderLmSchema } from './encoder-decoder-lm';
import { hfCausalSource } from './hf-source';

/** Adds this package's LLM backbone types to a registry; `causal` reads `"from": "hf:DIR"` (Llama, Mistral, Mixtral checkpoints). */
export function registerLlms(registry: Pick<ComponentRegistry, 'llms'>): void {
  registry.llms.register('causal', causalLmSchema, (config, { rng, vocabSize }) => new CausalLM(config, vocabSize, rng), { fromSource: hfCausalSource });
  registry.llms.register('prefix', prefixLmSchema, (config, { rng, vocabSize }) => new PrefixLM(config, vocabSize, rng));
  registry.llms.register('encoder-decoder', encoderDecoderLmSchema, (config, { rng, vocabSize }) => new EncoderDecoderLM(config, vocabSize, rng));
}
