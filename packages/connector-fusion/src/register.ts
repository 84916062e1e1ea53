import { ConfigError, type ComponentRegistry } from '@mllm/core';
import { GatedCrossAttention, gatedCrossAttentionSchema } from './gated-cross-attention';

/** Adds the `gated-cross-attention` connector type to a registry. */
export function registerFusionConnectors(registry: Pick<ComponentRegistry, 'connectors'>): void {
  registry.connectors.register('gated-cross-attention', gatedCrossAttentionSchema, (c, ctx) => {
    // the blocks sit between decoder layers, so the layer count is part of the shape contract
    if (ctx.llmLayers === undefined)
      throw new ConfigError([{ path: 'connector.type', message: 'gated-cross-attention needs the LLM layer count (ConnectorContext.llmLayers); build it through @mllm/model buildModel' }]);
    return new GatedCrossAttention(c, ctx.inputDim, ctx.outputDim, ctx.llmLayers, ctx.rng);
  });
}
