/**
 * `@mllm/llm/decoding`: the host-side arithmetic of decoding, shared by @mllm/llm's tfjs
 * `generate` and @mllm/onnx's runtime so both pick the same tokens from the same logits. Imports
 * no tfjs (only `@mllm/core/rng`): a deployment on onnxruntime loads it without the training stack.
 */

// Picking the next token: HF's logits processors in HF's order, then argmax or one seeded draw.
export { TokenPicker } from './token-picker';
export { checkSamplingOptions, type SamplingOptions, type RandomSource } from './sampling-options';

// The logits processors one at a time, on a row of plain numbers, in place (HF semantics).
export { applyRepetitionPenalty, applyTemperature, argmax, sampleFromLogits, softmax, suppressTokens, topKFilter, topPFilter } from './logits-processors';

// Positions of a left-padded batch, as RoPE reads them.
export { positionsFromMask } from './positions';
