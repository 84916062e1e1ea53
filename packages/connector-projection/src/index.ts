// Projection connectors: each visual token mapped to the LLM's width (LLaVA's linear, LLaVA-1.5's MLP).
export { LinearProjector, linearProjectorSchema } from './linear-projector';
export { MlpProjector, mlpProjectorSchema, type MlpProjectorConfig } from './mlp-projector';

// Registration of the `linear` and `mlp` connector types.
export { registerProjectionConnectors } from './register';
