// Vision transformer (CLIP/SigLIP style), its config schema and which layer's features it hands on.
export { VisionTransformer, vitSchema, featureDepth, type VitConfig, type VitHiddenStates } from './vit';
export { VIT_ACTIVATIONS, type VitActivation } from './activations';
export { registerEncoders } from './register';

// High resolution: sub-image tiles plus a global thumbnail (Monkey, SPHINX, LLaVA-NeXT).
export { HighResEncoder, highResSchema, highResInputSize, type HighResConfig } from './high-res';
export { selectGrid, extractTiles, type GridShape, type TileLayout } from './tile-grid';

// HF checkpoints: CLIP and SigLIP vision towers loaded by name, and their reference forward.
export { HF_VISION_MODEL_TYPES } from './hf-vision-config';
export { loadHfVisionEncoder, loadHfVisionWeights, forwardHfVision, type HfVisionOutput } from './hf-vision';
