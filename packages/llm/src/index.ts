// Backbones: causal (LLaMA-style, dense or MoE), prefix LM and encoder-decoder, with their config schemas.
export { CausalLM, causalLmSchema, ffnSchema, type CausalLmConfig, type FfnConfig } from './causal-lm';
export { PrefixLM, prefixLmSchema, type PrefixLmConfig } from './prefix-lm';
export { EncoderDecoderLM, encoderDecoderLmSchema, type EncoderDecoderLmConfig } from './encoder-decoder-lm';
export { registerLlms } from './register';

// Generation: KV-cached decoding from embeddings, whole or streamed (token picking itself is in `@mllm/llm/decoding`).
export { generateFromEmbeddings, generateStream, generateDetailed, type FinishReason, type GenerationEvent, type GenerationPrompt, type GenerationResult } from './generate';
export { generateOptionsSchema, resolveGenerateOptions, type GenerateOptions, type ResolvedGenerateOptions } from './generation-options';
export { contrastLogits, type ContrastiveDecoding } from './contrastive-decoding';
export { createKvCache, disposeKvCache } from './kv-cache';

// HF checkpoints: Llama, Mistral and Mixtral folders as a CausalLM, and the `from: "hf:..."` resolver.
export { loadHfCausalLm, loadHfCausalWeights, type HfCausalLm, type LoadHfCausalLmOptions } from './hf-import';
export { causalSpecFromHf, SUPPORTED_HF_CAUSAL_ARCHITECTURES, type HfCausalSpec, type HfCausalArchitecture } from './hf-config';
export { hfCausalSource } from './hf-source';
