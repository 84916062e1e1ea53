import type { ComponentSize, EstimateContext } from '@mllm/core';
import type { MlpProjectorConfig } from './mlp-projector';

/** One linear layer per projector depth (biased), the optional input LayerNorm; one LLM token per encoder token. */
export function estimateMlpProjector(config: MlpProjectorConfig, context: EstimateContext): ComponentSize {
  const input = context.inputDim ?? 0;
  const output = context.llm?.width ?? 0;
  const first = input * output + output;
  const rest = (config.depth - 1) * (output * output + output);
  return { parameters: (config.inputNorm ? 2 * input : 0) + first + rest, width: output, tokens: context.inputTokens ?? 0, layers: 0, heads: 0 };
}

export function estimateLinearProjector(_config: unknown, context: EstimateContext): ComponentSize {
  return estimateMlpProjector({ type: 'mlp', depth: 1 }, context);
}
