// The model: encoder -> connector -> `<image>` splice -> LLM, and the auxiliary (MoE) losses its forward returns.
export { MultimodalModel, withAuxLoss, disposeAux, type ForwardBatch, type ModelTokenIds, type ComponentConfig, type ComponentConfigs } from './multimodal-model';
export { mitigationSchema, type MitigationOptions, type MultimodalGenerateOptions } from './multimodal-generate-options';
export { diffusionNoised, type DiffusionNoise } from './image-distortion';

// Building a model from a config through the component registry.
export { buildModel, validateModelConfig, modelConfigSchema, type ModelConfig, type BuildModelOptions } from './model-config';
export { createComponentRegistry } from './registry';

// Batches: tokenized samples with images, collated for training or for generation.
export { collateTraining, collatePrompts, type TokenizedSample, type ModelBatch, type BatchOptions } from './batch';
export { imageInput, type ImageInput, type ModelImage } from './image-input';
