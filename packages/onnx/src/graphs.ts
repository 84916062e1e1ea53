import { MllmError } from '@mllm/core';
import { GraphBuilder, type WeightFormat } from './graph-builder';
import type { DecoderFusionNodes, DecoderOps, KvCacheLayout } from './exporter-types';
import type { ExportPlan } from './supported';

/**
 * The three graphs of the export, each assembled from the exporters of the model's parts
 * (looked up by registry type in checkExportable). Shapes: B batch, N encoder tokens,
 * M visual tokens, D_enc encoder width, D_llm LLM width. Each returns its builder; the
 * exporter serializes it (weights inside, or in an external data file) and writes it.
 */

/**
 * pixel_values [B, C, H, W] (already normalized, as HF's CLIP processor hands them) ->
 * image_features [B, M, D_llm]: the encoder to its features, then the connector. Mirrors
 * MultimodalModel.encodeImages.
 */
export function visionEncoderGraph(plan: ExportPlan, weights: WeightFormat): GraphBuilder {
  const { encoder, connector } = plan;
  const g = new GraphBuilder('vision_encoder', weights);
  const { size, channels } = encoder.exporter.image(encoder.component);
  const pixels = g.input('pixel_values', 'float32', ['batch_size', channels, size, size]);
  const features = encoder.exporter.features(g, encoder.component, pixels, encoder.ctx); // [B, N, D_enc]
  const out = connector.exporter.imageFeatures(g, connector.component, features, connector.ctx); // [B, M, D_llm]
  g.output(out.features, 'image_features', 'float32', ['batch_size', out.tokens, 'hidden_size']);
  return g;
}

/** input_ids [B, T] int64 -> inputs_embeds [B, T, D_llm]. */
export function embedTokensGraph(plan: ExportPlan, weights: WeightFormat): GraphBuilder {
  const g = new GraphBuilder('embed_tokens', weights);
  plan.llm.exporter.embedTokens(g, plan.llm.component, plan.llm.ctx);
  return g;
}

/** The merged decoder of the LLM's exporter, with a fusion connector's nodes in its layers. */
export function decoderGraph(plan: ExportPlan, weights: WeightFormat, maxPositions: number, ops: DecoderOps): { graph: GraphBuilder; cache: KvCacheLayout } {
  const { llm, connector } = plan;
  const g = new GraphBuilder('decoder_model_merged', weights);
  let added = false;
  const fusion = (): DecoderFusionNodes => {
    if (added) throw new MllmError(`the ${llm.ctx.config.type} exporter asked for the fusion connector's decoder nodes twice; call ctx.fusion() once`);
    added = true;
    return connector.exporter.decoder?.(g, connector.component, connector.ctx) ?? {};
  };
  const cache = llm.exporter.decoder(g, llm.component, { ...llm.ctx, maxPositions, ops, fusion }) ?? 'appended';
  if (!added && connector.exporter.decoder)
    throw new MllmError(`the ${llm.ctx.config.type} exporter wrote a decoder without the ${connector.ctx.config.type} connector's nodes; an LLM exporter calls ctx.fusion()`);
  return { graph: g, cache };
}
