import type { ComponentRegistry, ComponentSize, EstimateContext } from '@mllm/core';
import { buildExpertBridge, expertBridgeSchema } from './expert-bridge';
import { EXPERT_TEXT_TOKENS } from './expert-text';
import { REGION_LOGITS } from './region-detector';

/** The detector's norm and classifier (frozen, but stored with the model); M text tokens per image. */
function estimateExpertBridge(_config: unknown, context: EstimateContext): ComponentSize {
  const d = context.inputDim ?? 0;
  const n = context.inputTokens ?? 0;
  return { parameters: 2 * d + ((n / 4) * d + 1) * REGION_LOGITS, width: context.llm?.width ?? 0, tokens: EXPERT_TEXT_TOKENS, layers: 0, heads: 0 };
}

/** Adds the `expert` connector type (the expert-model bridge) to a registry. */
export function registerExpertConnectors(registry: Pick<ComponentRegistry, 'connectors'>): void {
  registry.connectors.register('expert', expertBridgeSchema, buildExpertBridge, { estimate: estimateExpertBridge });
}
