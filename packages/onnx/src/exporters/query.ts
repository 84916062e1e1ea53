import type { PerceiverResampler, QFormer } from '@mllm/connector-query';
import type { ConnectorExporter } from '../exporter-types';
import { perceiverNodes, qformerNodes } from '../query-connectors';

/** Connector type `qformer` (BLIP-2): learned queries cross-attend to the image tokens, [B, N, D_enc] -> [B, Q, D_llm]. */
export const qformerExporter: ConnectorExporter<QFormer> = {
  imageFeatures: (g, connector, features, ctx) => ({ features: qformerNodes(g, features, connector, ctx.name), tokens: connector.outputTokens(ctx.inputTokens) }),
  record: (connector) => ({ ...connector.config }),
};

/** Connector type `perceiver` (Flamingo's resampler): latents attend to [image tokens; latents], [B, N, D_enc] -> [B, L, D_llm]. */
export const perceiverExporter: ConnectorExporter<PerceiverResampler> = {
  imageFeatures: (g, connector, features, ctx) => ({ features: perceiverNodes(g, features, connector, ctx.name), tokens: connector.outputTokens(ctx.inputTokens) }),
  record: (connector) => ({ ...connector.config }),
};
