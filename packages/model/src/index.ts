export { MultimodalModel, withAuxLoss, disposeAux, type ForwardBatch, type SpecialIds, type ComponentConfig, type ComponentConfigs } from './multimodal-model';
export { buildModel, validateModelConfig, modelConfigSchema, type ModelConfig, type BuildModelOptions } from './model-config';
export { createComponentRegistry } from './registry';
export { collateTraining, collatePrompts, expandImages, prefixLengthsFromWeights, type TokenizedSample, type ModelBatch, type BatchOptions } from './batch';
export { placeImageTokens, type ImageSlot } from './splice';
export { imageInput, type ImageInput, type ModelImage } from './image-input';
