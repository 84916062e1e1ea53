import { ConfigError, type ComponentRegistry } from '@mllm/core';
import { VisualExpert, visualExpertSchema } from './visual-expert';
import { GatedCrossAttention, gatedCrossAttentionSchema } from './gated-cross-attention';
import { AdapterPrompts, adapterPromptsSchema } from './adapter-prompts';
import { estimateAdapterPrompts, estimateGatedCrossAttention, visualExpertEstimator } from './size-estimate';

/** Adds the `gated-cross-attention`, `visual-expert` and `adapter-prompts` connector types to a registry. */
export function registerFusionConnectors(registry: Pick<ComponentRegistry, 'connectors'>): void {
  registry.connectors.register('gated-cross-attention', gatedCrossAttentionSchema, (c, ctx) => {
    // the blocks sit between decoder layers, so the layer count is part of the shape contract
    if (ctx.llmLayers === undefined)
      throw new ConfigError([{ path: 'connector.type', message: 'gated-cross-attention needs the LLM layer count (ConnectorContext.llmLayers); build it through @mllm/model buildModel' }]);
    return new GatedCrossAttention(c, ctx.inputDim, ctx.outputDim, ctx.llmLayers, ctx.rng);
  }, { estimate: estimateGatedCrossAttention });
  registry.connectors.register('adapter-prompts', adapterPromptsSchema, (c, ctx) => {
    // prompts go into the top layers and the gates are per head, so both counts shape the parameters
    if (ctx.llmLayers === undefined || ctx.llmHeads === undefined)
      throw new ConfigError([
        { path: 'connector.type', message: 'adapter-prompts needs the LLM layer and head counts (ConnectorContext.llmLayers, llmHeads); build it through @mllm/model buildModel with an LLM that exposes numHeads' },
      ]);
    return new AdapterPrompts(c, ctx.inputDim, ctx.outputDim, { layers: ctx.llmLayers, heads: ctx.llmHeads }, ctx.rng);
  }, { estimate: estimateAdapterPrompts });
  // the projection is any token-level type of this same registry, checked with the rest of the config
  const visualExpert = visualExpertSchema.superRefine((c, zctx) => {
    const r = registry.connectors.validate(c.projection, 'projection');
    if (!r.ok) for (const issue of r.issues) zctx.addIssue({ code: 'custom', path: issue.path.split('.'), message: issue.message });
  });
  registry.connectors.register('visual-expert', visualExpert, (c, ctx) => {
    if (!ctx.llm)
      throw new ConfigError([{ path: 'connector.type', message: 'visual-expert copies the LLM layer weights into its experts (ConnectorContext.llm); build it through @mllm/model buildModel' }]);
    const projection = registry.connectors.build(c.projection, { ...ctx, rng: ctx.rng.fork('projection') }, 'connector.projection');
    if (projection.kind !== 'token-connector') {
      projection.dispose();
      throw new ConfigError([
        { path: 'connector.projection.type', message: `${c.projection.type} is a fusion connector; the projection must make tokens: use a token-level type such as "mlp" or "linear"` },
      ]);
    }
    try {
      return new VisualExpert(projection, ctx.llm, ctx.rng.fork('experts'));
    } catch (error) {
      projection.dispose();
      throw error;
    }
  }, { estimate: visualExpertEstimator(registry.connectors) });
}
