import { GeluMLP } from '@mllm/core';
import { featureDepth, type VisionTransformer } from '@mllm/encoders';
import type { EncoderExporter } from '../exporter-types';
import { UnsupportedExportError } from '../unsupported-error';
import { layerNorm, transformerBlock, values } from '../layers';

/** Blocks run before the feature layer: the encoder's own rule, so export and tfjs cannot disagree. */
export function vitFeatureDepth(encoder: VisionTransformer): number {
  return featureDepth(encoder.config.featureLayer, encoder.blocks.length);
}

/**
 * Encoder type `vit`: a CLIP-style ViT (CLS token, pre_layrnorm, exact GELU) up to its feature
 * layer, mirroring VisionTransformer.encode. SigLIP towers, highRes wrappers and other MLP
 * activations are refused by `check`. Shapes: B batch, N patches, D width, g patch grid side.
 */
export const vitExporter: EncoderExporter<VisionTransformer> = {
  check(encoder, ctx) {
    // the factory wraps the ViT in a HighResEncoder when `highRes` is set
    const highRes = (ctx.config as { highRes?: { strategy?: string } }).highRes;
    if (highRes)
      throw new UnsupportedExportError(`${ctx.path}.highRes (strategy "${highRes.strategy}")`, 'Tiled / resized high-resolution input is not exported; export a plain "vit" encoder (no highRes).');
    const variant = encoder.config.variant;
    if (variant !== 'clip' || !encoder.preNorm || !encoder.embeddings.classEmbedding)
      throw new UnsupportedExportError(`${ctx.path} variant "${variant}"`, 'The export writes CLIP-style ViTs (CLS token, pre_layrnorm); SigLIP towers are not exported yet.');
    encoder.blocks.forEach((block, i) => {
      if (!(block.mlp instanceof GeluMLP))
        throw new UnsupportedExportError(
          `${ctx.path}.layers[${i}].mlp (activation "${encoder.config.activation}")`,
          'Only the exact-GELU MLP (activation "gelu") is exported; quick-gelu and gelu-tanh are not yet.',
        );
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
    const conv = g.op('Conv', [pixels, g.floatTensor('vision_tower.embeddings.patch_embedding.weight', values(emb.patchWeight), [dim, channels, p, p])], {
      kernel_shape: { ints: [p, p] },
      strides: { ints: [p, p] },
    }); // [B, D, g, g]
    const patches = g.op('Transpose', [g.op('Reshape', [conv, g.constInt64([0, dim, grid * grid])])], { perm: { ints: [0, 2, 1] } }); // [B, N, D]
    const batch = g.op('Slice', [g.op('Shape', [patches]), g.constInt64([0]), g.constInt64([1])]); // [1]
    const clsShape = g.op('Concat', [batch, g.constInt64([1, dim])], { axis: { int: 0 } });
    const cls = g.op('Expand', [g.floatTensor('vision_tower.embeddings.class_embedding', values(emb.classEmbedding!), [1, 1, dim]), clsShape]); // [B, 1, D]
    const tokens = g.op('Concat', [cls, patches], { axis: { int: 1 } }); // [B, N+1, D]
    const positioned = g.op('Add', [tokens, g.floatTensor('vision_tower.embeddings.position_embedding.weight', values(emb.positionEmbedding), [grid * grid + 1, dim])]);
    let h = layerNorm(g, positioned, encoder.preNorm!, 'vision_tower.pre_layrnorm');
    encoder.blocks.slice(0, vitFeatureDepth(encoder)).forEach((block, i) => {
      h = transformerBlock(g, h, block, `vision_tower.encoder.layers.${i}`).out;
    });
    if (!includeCls) h = g.op('Slice', [h, g.constInt64([1]), g.constInt64([grid * grid + 1]), g.constInt64([1])]); // [B, N, D]
    return h;
  },

  hf(encoder) {
    const vit = encoder.config;
    return {
      // HF counts hidden_states with the embeddings first: -1 is the last block's output
      featureLayer: vitFeatureDepth(encoder) - encoder.blocks.length - 1,
      selectStrategy: vit.includeCls ? 'full' : 'default',
      patchSize: vit.patchSize,
      patches: (vit.imageSize / vit.patchSize) ** 2,
      visionConfig: {
        model_type: 'clip_vision_model',
        hidden_size: vit.dim,
        intermediate_size: Math.round(vit.dim * vit.mlpRatio),
        num_hidden_layers: vit.layers,
        num_attention_heads: vit.heads,
        num_channels: vit.channels,
        image_size: vit.imageSize,
        patch_size: vit.patchSize,
        hidden_act: 'gelu',
        layer_norm_eps: encoder.postNorm.eps,
      },
    };
  },

  record: (encoder) => ({ ...encoder.config }),
};
