export { VisionTransformer, vitSchema, featureDepth, type VitConfig, type VitHiddenStates } from './vit';
export { registerEncoders } from './register';
export { HighResEncoder, highResSchema, highResInputSize, type HighResConfig } from './high-res';
export { selectGrid, extractTiles, downsample, type GridShape, type TileLayout } from './tile-grid';
export { VIT_ACTIVATIONS, HF_ACTIVATIONS, geluTanh, quickGelu, type VitActivation } from './activations';
export { AttentionPoolingHead } from './attention-pool';
export { HF_VISION_MODEL_TYPES, hfVitFields, type HfVitFields } from './hf-vision-config';
export { forwardHfVision, loadHfVisionEncoder, loadHfVisionWeights, readHfTensorsSync, type HfVisionOutput } from './hf-vision';
