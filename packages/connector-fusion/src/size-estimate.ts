import type { ComponentSize, EstimateContext, Registry } from '@mllm/core';
import { parameterCount } from '@mllm/core/internal';
import type { GatedCrossAttentionConfig } from './gated-cross-attention';
import type { AdapterPromptsConfig } from './adapter-prompts';
import type { VisualExpertConfig } from './visual-expert';

const llmOf = (context: EstimateContext) => context.llm ?? { width: 0, layers: 0, heads: 0, parameters: 0, tokens: 0 };

/** Flamingo: media projection, then per block a normed bias-free cross-attention, a feed-forward and two scalar gates. */
export function estimateGatedCrossAttention(config: GatedCrossAttentionConfig, context: EstimateContext): ComponentSize {
  const llm = llmOf(context);
  const dim = llm.width;
  // counted, not listed: the LLM may claim 1e9 layers, and this must stay cheap
  const blocks = Math.floor(llm.layers / config.every);
  const block = parameterCount.layerNorm(dim) + parameterCount.attention({ dim, numHeads: config.heads, bias: false }) + 1 + parameterCount.preNormFeedForward(dim, dim * config.mlpRatio) + 1;
  return { parameters: parameterCount.linear(context.inputDim ?? 0, dim) + blocks * block, width: dim, tokens: 0, layers: blocks, heads: config.heads };
}

/** LLaMA-Adapter: the visual projection, and prompts plus a per-head gate in each adapted layer. */
export function estimateAdapterPrompts(config: AdapterPromptsConfig, context: EstimateContext): ComponentSize {
  const llm = llmOf(context);
  const layers = config.layers ?? Math.min(2, llm.layers);
  return { parameters: parameterCount.linear(context.inputDim ?? 0, llm.width) + layers * (config.prompts * llm.width + llm.heads), width: llm.width, tokens: 0, layers: 0, heads: 0 };
}

/**
 * CogVLM: the token-level projection (its own type's estimate) and, per decoder layer, image
 * copies of the layer's q/k/v and SwiGLU. The projection's tokens go into the sequence; a
 * projection type without an estimator leaves the size unknown.
 */
export function visualExpertEstimator(connectors: Pick<Registry<unknown, unknown>, 'estimate'>) {
  return (config: VisualExpertConfig, context: EstimateContext): ComponentSize | undefined => {
    const llm = llmOf(context);
    const projection = connectors.estimate(config.projection as { type: string }, context);
    if (!projection) return undefined; // a plugin projection without an estimator: the size is unknown
    const kvDim = llm.kvDim ?? llm.width;
    const expert = llm.width * llm.width + 2 * llm.width * kvDim + parameterCount.swiGlu(llm.width, llm.mlpHidden ?? 0);
    return { parameters: projection.parameters + llm.layers * expert, width: llm.width, tokens: projection.tokens, layers: 0, heads: 0 };
  };
}
