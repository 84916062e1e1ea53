export { CausalLM, causalLmSchema, ffnSchema, positionsFromMask, type CausalLmConfig, type FfnConfig } from './causal-lm';
export { PrefixLM, prefixLmSchema, type PrefixLmConfig } from './prefix-lm';
export { EncoderDecoderLM, encoderDecoderLmSchema, type EncoderDecoderLmConfig } from './encoder-decoder-lm';
export { CrossAttention, DecoderBlock, type CrossKeyValues, type DecoderBlockInputs } from './decoder-block';
export { splitAtPrefix, type PrefixSplit } from './prefix-split';
export { createKvCache, disposeKvCache } from './kv-cache';
export {
  collectGeneration,
  generateDetailed,
  generateFromEmbeddings,
  generateStream,
  generationSteps,
  streamSteps,
  type FinishReason,
  type GenerationEvent,
  type GenerationPrompt,
  type GenerationResult,
} from './generate';
export { generateOptionsSchema, resolveGenerateOptions, type GenerateOptions, type ResolvedGenerateOptions } from './generation-options';
export { TokenPicker } from './token-picker';
export { applyRepetitionPenalty, applyTemperature, argmax, sampleFromLogits, softmax, suppressTokens, topKFilter, topPFilter } from './logits-processors';
export { registerLlms } from './register';
export { loadHfCausalLm, loadHfCausalWeights, describeFirstMismatches, type HfCausalLm, type LoadHfCausalLmOptions } from './hf-import';
export { causalSpecFromHf, mergeHfLlmConfig, SUPPORTED_HF_CAUSAL_ARCHITECTURES, type HfCausalSpec, type HfCausalArchitecture } from './hf-config';
export { hfCausalSource } from './hf-source';
