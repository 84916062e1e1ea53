export { CausalLM, causalLmSchema, positionsFromMask, type CausalLmConfig } from './causal-lm';
export { createKvCache, disposeKvCache } from './kv-cache';
export { generateFromEmbeddings, type GenerateOptions } from './generate';
export { registerLlms } from './register';
