import type { ComponentSize, EstimateContext } from '@mllm/core';
import { parameterCount } from '@mllm/core/internal';
import type { QFormerConfig } from './qformer';
import type { PerceiverConfig } from './perceiver-resampler';

/** Q-Former attention (pre-norm, query with bias, key without, value with, output dense) reading keys of width kvDim. */
function qformerAttention(dim: number, kvDim: number): number {
  return parameterCount.layerNorm(dim) + parameterCount.linear(dim, dim) + parameterCount.linear(kvDim, dim, false) + parameterCount.linear(kvDim, dim) + parameterCount.linear(dim, dim);
}

/** BLIP-2's Q-Former: query tokens, ln_vision, self- and cross-attention and an MLP per layer, norms, language projection. */
export function estimateQFormer(config: QFormerConfig, context: EstimateContext): ComponentSize {
  const input = context.inputDim ?? 0;
  const output = context.llm?.width ?? 0;
  const dim = config.dim ?? input;
  const hidden = dim * config.mlpRatio;
  const layer = qformerAttention(dim, dim) + qformerAttention(dim, input) + parameterCount.layerNorm(dim) + parameterCount.linear(dim, hidden) + parameterCount.linear(hidden, dim);
  const parameters = config.numQueries * dim + parameterCount.layerNorm(input) + 2 * parameterCount.layerNorm(dim) + config.layers * layer + parameterCount.linear(dim, output);
  return { parameters, width: output, tokens: config.numQueries, layers: config.layers, heads: config.heads };
}

/** Flamingo's Perceiver resampler: latents, a media projection when widths differ, attention and feed-forward per layer, norm, language projection. */
export function estimatePerceiver(config: PerceiverConfig, context: EstimateContext): ComponentSize {
  const input = context.inputDim ?? 0;
  const output = context.llm?.width ?? 0;
  const dim = config.dim ?? input;
  const layer = 2 * parameterCount.layerNorm(dim) + parameterCount.attention({ dim, numHeads: config.heads, bias: false }) + parameterCount.preNormFeedForward(dim, dim * config.mlpRatio);
  const parameters = config.numLatents * dim + (dim !== input ? parameterCount.linear(input, dim) : 0) + config.layers * layer + parameterCount.layerNorm(dim) + parameterCount.linear(dim, output);
  return { parameters, width: output, tokens: config.numLatents, layers: config.layers, heads: config.heads };
}
