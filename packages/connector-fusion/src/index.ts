// Fusion connectors: the image reaches the LLM inside its decoder layers, the token sequence stays text.
// Flamingo's gated cross-attention (its blocks, for exporters that walk them):
export { GatedCrossAttention, gatedCrossAttentionSchema, type GatedCrossAttentionConfig } from './gated-cross-attention';
export { GatedCrossAttentionBlock } from './gated-cross-attention-block';
// LLaMA-Adapter's zero-initialised adaption prompts, CogVLM's visual expert:
export { AdapterPrompts, adapterPromptsSchema, type AdapterPromptsConfig } from './adapter-prompts';
export { VisualExpert, visualExpertSchema, type VisualExpertConfig } from './visual-expert';

// Registration of the `gated-cross-attention`, `adapter-prompts` and `visual-expert` connector types.
export { registerFusionConnectors } from './register';
