export { GatedCrossAttention, gatedCrossAttentionSchema, crossAttentionLayers, type GatedCrossAttentionConfig } from './gated-cross-attention';
export { GatedCrossAttentionBlock, MaskedCrossAttention, type CrossAttentionInputs } from './gated-cross-attention-block';
export { MediaLayout, placeMedia } from './media-layout';
export { registerFusionConnectors } from './register';
export { AdapterPrompts, AdaptionPrompt, adapterPromptsSchema, adaptedLayers, type AdapterPromptsConfig } from './adapter-prompts';
export { VisualExpert, visualExpertSchema, type VisualExpertConfig } from './visual-expert';
export { VisualExpertLayer, type ExpertShape } from './visual-expert-layer';
