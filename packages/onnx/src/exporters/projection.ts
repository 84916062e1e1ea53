import type { LinearProjector, MlpProjector } from '@mllm/connector-projection';
import type { ConnectorExporter } from '../exporter-types';
import { gelu, layerNorm, linear } from '../layers';

/** Connector type `linear` (LLaVA-1.0): one linear map per token, [B, N, D_enc] -> [B, N, D_llm]. */
export const linearExporter: ConnectorExporter<LinearProjector> = {
  imageFeatures: (g, connector, features, ctx) => ({ features: linear(g, features, connector.proj, `${ctx.name}.linear`), tokens: ctx.inputTokens }),
  record: () => ({ type: 'linear' }),
};

/** Connector type `mlp` (LLaVA-1.5): [LayerNorm,] Linear, GELU, ..., Linear per token. */
export const mlpExporter: ConnectorExporter<MlpProjector> = {
  imageFeatures(g, connector, features, ctx) {
    let h = connector.inputNorm ? layerNorm(g, features, connector.inputNorm, `${ctx.name}.norm`) : features; // [B, N, D_enc]
    connector.layers.forEach((layer, i) => {
      h = linear(g, h, layer, `${ctx.name}.linear_${i + 1}`); // [B, N, D_llm]
      if (i < connector.layers.length - 1) h = gelu(g, h);
    });
    return { features: h, tokens: ctx.inputTokens };
  },
  record: (connector) => ({ type: 'mlp', depth: connector.layers.length, ...(connector.inputNorm && { inputNorm: true }) }),
};
