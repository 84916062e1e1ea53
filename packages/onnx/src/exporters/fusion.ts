import * as tf from '@tensorflow/tfjs';
import type { TokenConnector } from '@mllm/core';
import type { ComponentConfig } from '@mllm/model';
import type { AdapterPrompts, GatedCrossAttention, VisualExpert } from '@mllm/connector-fusion';
import type { ConnectorExportContext, ConnectorExporter } from '../exporter-types';
import { gatedCrossAttentionBlock } from '../gated-cross-attention';
import { linear, values, type GraphRouting } from '../layers';

/**
 * The fusion connectors: each writes its visual context as vision_encoder.onnx's output and
 * its per-layer nodes into the decoder (core's LayerFusion as graph nodes); `fusion` names the
 * decoder inputs the runtime feeds (mllm.json `fusion`). Shapes: B batch, T tokens, N encoder
 * tokens, D LLM width.
 */

/** Flamingo (arXiv:2204.14198): every encoder token projected to the LLM width; gated cross-attention blocks before the LLM's layers. */
export const gatedCrossAttentionExporter: ConnectorExporter<GatedCrossAttention> = {
  imageFeatures: (g, connector, features, ctx) => ({ features: linear(g, features, connector.mediaProj, `${ctx.name}.media_proj`), tokens: ctx.inputTokens }), // [B, N, D]
  decoder(g, connector, ctx) {
    // the runtime lays out each row's media keys and this call's masks (media-layout.ts)
    const media = {
      media: g.input('media', 'float32', ['batch_size', 'media_length', ctx.outputDim]),
      mask: g.input('media_mask', 'float32', ['batch_size', 1, 'sequence_length', 'media_length']),
      present: g.input('media_present', 'float32', ['batch_size', 'sequence_length', 1]),
    };
    return {
      beforeLayer(i, hidden) {
        const block = connector.blocks.get(i);
        return block ? gatedCrossAttentionBlock(g, hidden, block, `${ctx.name}.gated_cross_attn_layers.${i}`, media) : hidden; // [B, T, D]
      },
    };
  },
  fusion: (_connector, ctx) => ({ type: 'gated-cross-attention', mediaTokens: ctx.inputTokens }),
  record: (connector) => ({ ...connector.config }),
};

/** LLaMA-Adapter: the token mean projected to the LLM width joins zero-gated prompts in the top layers' attention. */
export const adapterPromptsExporter: ConnectorExporter<AdapterPrompts> = {
  imageFeatures(g, connector, features, ctx) {
    const mean = g.op('ReduceMean', [features], { axes: { ints: [1] }, keepdims: { int: 1 } }); // [B, 1, D_enc]
    return { features: linear(g, mean, connector.visualProj, `${ctx.name}.visual_proj`), tokens: 1 }; // [B, 1, D]
  },
  decoder(g, connector, ctx) {
    // each row's visual vector [B, 1, D] (zeros for a row without an image)
    const visual = g.input('image_prefix_features', 'float32', ['batch_size', 1, ctx.outputDim]);
    return {
      kvPrefix(i) {
        const a = connector.layers.get(i);
        if (!a) return undefined;
        const base = `${ctx.name}.adapter_layers.${i}`;
        const [p, d] = a.prompt.shape as [number, number];
        return {
          states: g.op('Add', [g.floatTensor(`${base}.adaption_prompt`, values(a.prompt), [1, p, d]), visual]), // [B, P, D]
          gate: g.op('Tanh', [g.floatTensor(`${base}.adaption_gate`, values(a.gate), [a.gate.shape[0]!])]), // [H]
        };
      },
    };
  },
  fusion: () => ({ type: 'adapter-prompts' }),
  record: (connector) => ({ ...connector.config }),
};

/** The visual expert's token-level projection: any connector type with an exporter, looked up by its own `type`. */
function projectionPart(connector: VisualExpert, ctx: ConnectorExportContext) {
  const config = ctx.config.projection as ComponentConfig;
  const path = `${ctx.path}.projection`;
  const exporter = ctx.exporters.connectors.exporterFor(config.type, path, connector.projection);
  return { exporter: exporter as ConnectorExporter<TokenConnector>, ctx: { ...ctx, path, config, name: `${ctx.name}.projection` } };
}

/**
 * CogVLM (arXiv:2311.03079): image tokens from its projection, spliced as LLaVA's, and image
 * positions take the experts' q/k/v and feed-forward in every decoder layer.
 */
export const visualExpertExporter: ConnectorExporter<VisualExpert> = {
  check(connector, ctx) {
    const projection = projectionPart(connector, ctx);
    projection.exporter.check?.(connector.projection, projection.ctx);
  },
  prepare(connector, ctx) {
    // experts still as built re-copy the LLM's text weights at their first bind with images
    // (CogVLM starts them from the trained LLM): bind once, so the export holds what tfjs runs
    const features = tf.zeros([1, ctx.inputTokens, ctx.inputDim]) as tf.Tensor3D;
    try {
      connector.bind(features, [{ row: 0, start: 0 }], 1).dispose();
    } finally {
      features.dispose();
    }
  },
  imageFeatures(g, connector, features, ctx) {
    const projection = projectionPart(connector, ctx);
    return projection.exporter.imageFeatures(g, connector.projection, features, projection.ctx);
  },
  decoder(g, connector, ctx) {
    // 1 at this call's image positions (all 0 at decode steps: the LLM as it is)
    const imageMask = g.op('Unsqueeze', [g.input('image_token_mask', 'float32', ['batch_size', 'sequence_length']), g.constInt64([2])]); // [B, T, 1]
    const textMask = g.op('Sub', [g.constFloat([1], []), imageMask]);
    return {
      routing(i): GraphRouting {
        const e = connector.experts[i]!;
        return { imageMask, textMask, expert: { q: e.q, k: e.k, v: e.v, mlp: e.mlp }, name: `${ctx.name}.experts.${i}` };
      },
    };
  },
  fusion: () => ({ type: 'visual-expert' }),
  record(connector, ctx) {
    const projection = projectionPart(connector, ctx);
    return { type: 'visual-expert', projection: projection.exporter.record ? projection.exporter.record(connector.projection, projection.ctx) : { ...projection.ctx.config } };
  },
};
