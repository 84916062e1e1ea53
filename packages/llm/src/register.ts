import type { ComponentRegistry } from '@mllm/core';
import { CausalLM, causalLmSchema } from './causal-lm';
import { PrefixLM, prefixLmSchema } from './prefix-lm';
import { EncoderDecoderLM, encoderDecoderLmSchema } from './encoder-decoder-lm';
import { hfCausalSource } from './hf-source';
import { estimateDecoderOnly, estimateEncoderDecoder } from './size-estimate';

/** Adds this package's LLM backbone types to a registry; `causal` reads `"from": "hf:DIR"` (Llama, Mistral, Mixtral checkpoints). */
export function registerLlms(registry: Pick<ComponentRegistry, 'llms'>): void {
  registry.llms.register('causal', causalLmSchema, (config, { rng, vocabSize }) => new CausalLM(config, vocabSize, rng), { fromSource: hfCausalSource, estimate: estimateDecoderOnly });
  registry.llms.register('prefix', prefixLmSchema, (config, { rng, vocabSize }) => new PrefixLM(config, vocabSize, rng), { estimate: estimateDecoderOnly });
  registry.llms.register('encoder-decoder', encoderDecoderLmSchema, (config, { rng, vocabSize }) => new EncoderDecoderLM(config, vocabSize, rng), { estimate: estimateEncoderDecoder });
}
