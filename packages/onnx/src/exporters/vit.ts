import { GeluMLP } from '@mllm/core';
import { featureDepth, type VisionTransformer } from '@mllm/encoders';
import type { EncoderExporter } from '../exporter-types';
import { UnsupportedExportError } from '../unsupported-error';
import { layerNorm, transformerBlock, values, type MlpActivation } from '../layers';

/** Blocks run before the feature layer: the encoder's own rule, so export and tfjs cannot disagree. */
export function vitFeatureDepth(encoder: VisionTransformer): number {
  return featureDepth(encoder.config.featureLayer, encoder.blocks.length);
}

const ACTIVATIONS: readonly string[] = ['gelu', 'gelu-tanh', 'quick-gelu', 'relu', 'silu'] satisfies MlpActivation[];
/** Our activation names -> HF `hidden_act`. */
const HF_ACT: Record<string, string> = { gelu: 'gelu', 'gelu-tanh': 'gelu_pytorch_tanh', 'quick-gelu': 'quick_gelu', relu: 'relu', silu: 'silu' };

/**
 * Encoder type `vit`: a CLIP ViT (CLS token, pre_layrnorm) or a SigLIP tower (no CLS, patch
 * bias, post_layernorm for the `output` feature layer) up to its feature layer, with any of the
 * encoders' MLP activations, mirroring VisionTransformer.encode. highRes wrappers are refused by
 * `check`. Shapes: B batch, N patches, D width, g patch grid side.
 */
export const vitExporter: EncoderExporter<VisionTransformer> = {
  check(encoder, ctx) {
    // the factory wraps the ViT in a HighResEncoder when `highRes` is set
    const highRes = (ctx.config as { highRes?: { strategy?: string } }).highRes;
    if (highRes)
      throw new UnsupportedExportError(`${ctx.path}.highRes (strategy "${highRes.strategy}")`, 'Tiled / resized high-resolution input is not exported; export a plain "vit" encoder (no highRes).');
    encoder.blocks.forEach((block, i) => {
      const mlp = block.mlp as unknown as { activation?: string };
      if (!(block.mlp instanceof GeluMLP) && !(mlp.activation && ACTIVATIONS.includes(mlp.activation)))
        throw new UnsupportedExportError(`${ctx.path}.layers[${i}].mlp (activation "${mlp.activation ?? '?'}")`, `Only ${ACTIVATIONS.join(', ')} MLPs are exported.`);
    });
  },

  image(encoder) {
    const { imageSize, channels, pixelMean, pixelStd } = encoder.config;
    return { size: imageSize, channels, mean: [...pixelMean], std: [...pixelStd] };
  },

  features(g, encoder, pixels) {
    const { dim, channels, patchSize: p, imageSize, includeCls } = encoder.config;
    const grid = imageSize / p;
    const emb = encoder.embeddings;
    // stride-P convolution = the per-patch matMul the tfjs encoder does
    const bias = emb.patchBias ? [g.floatTensor('vision_tower.embeddings.patch_embedding.bias', values(emb.patchBias), [dim])] : [];
    const conv = g.op('Conv', [pixels, g.floatTensor('vision_tower.embeddings.patch_embedding.weight', values(emb.patchWeight), [dim, channels, p, p]), ...bias], {
      kernel_shape: { ints: [p, p] },
      strides: { ints: [p, p] },
    }); // [B, D, g, g]
    const patches = g.op('Transpose', [g.op('Reshape', [conv, g.constInt64([0, dim, grid * grid])])], { perm: { ints: [0, 2, 1] } }); // [B, N, D]
    const cls = emb.classEmbedding ? 1 : 0;
    let tokens = patches;
    if (emb.classEmbedding) {
      const batch = g.op('Slice', [g.op('Shape', [patches]), g.constInt64([0]), g.constInt64([1])]); // [1]
      const clsShape = g.op('Concat', [batch, g.constInt64([1, dim])], { axis: { int: 0 } });
      const clsToken = g.op('Expand', [g.floatTensor('vision_tower.embeddings.class_embedding', values(emb.classEmbedding), [1, 1, dim]), clsShape]); // [B, 1, D]
      tokens = g.op('Concat', [clsToken, patches], { axis: { int: 1 } }); // [B, N+1, D]
    }
    const positioned = g.op('Add', [tokens, g.floatTensor('vision_tower.embeddings.position_embedding.weight', values(emb.positionEmbedding), [grid * grid + cls, dim])]);
    // CLIP normalises before the blocks (pre_layrnorm); SigLIP has no such norm
    let h = encoder.preNorm ? layerNorm(g, positioned, encoder.preNorm, 'vision_tower.pre_layrnorm') : positioned;
    encoder.blocks.slice(0, vitFeatureDepth(encoder)).forEach((block, i) => {
      h = transformerBlock(g, h, block, `vision_tower.encoder.layers.${i}`).out;
    });
    // SigLIP's last_hidden_state is after post_layernorm: the `output` feature layer includes it, as encode does
    if (encoder.config.featureLayer === 'output' && !cls) h = layerNorm(g, h, encoder.postNorm, 'vision_tower.post_layernorm');
    if (cls && !includeCls) h = g.op('Slice', [h, g.constInt64([1]), g.constInt64([grid * grid + 1]), g.constInt64([1])]); // [B, N, D]
    return h;
  },

  hf(encoder) {
    const vit = encoder.config;
    return {
      // HF counts hidden_states with the embeddings first: -1 is the last block's output
      featureLayer: vitFeatureDepth(encoder) - encoder.blocks.length - 1,
      // SigLIP has no CLS to drop: all its tokens are features ('full')
      selectStrategy: vit.includeCls || vit.variant === 'siglip' ? 'full' : 'default',
      patchSize: vit.patchSize,
      patches: (vit.imageSize / vit.patchSize) ** 2,
      visionConfig: {
        model_type: vit.variant === 'siglip' ? 'siglip_vision_model' : 'clip_vision_model',
        hidden_size: vit.dim,
        intermediate_size: vit.mlpHidden ?? Math.round(vit.dim * vit.mlpRatio),
        num_hidden_layers: vit.layers,
        num_attention_heads: vit.heads,
        num_channels: vit.channels,
        image_size: vit.imageSize,
        patch_size: vit.patchSize,
        hidden_act: HF_ACT[vit.activation],
        layer_norm_eps: encoder.postNorm.eps,
      },
    };
  },

  record: (encoder) => ({ ...encoder.config }),
};
