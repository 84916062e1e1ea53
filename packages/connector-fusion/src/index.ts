export { GatedCrossAttention, gatedCrossAttentionSchema, crossAttentionLayers, type GatedCrossAttentionConfig } from './gated-cross-attention';
export { GatedCrossAttentionBlock, MaskedCrossAttention, GatedFeedForward, type CrossAttentionInputs } from './gated-cross-attention-block';
export { MediaLayout, placeMedia } from './media-layout';
export { registerFusionConnectors } from './register';
