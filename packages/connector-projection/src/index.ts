export { LinearProjector, linearProjectorSchema } from './linear-projector';
export { MlpProjector, mlpProjectorSchema, type MlpProjectorConfig } from './mlp-projector';
export { registerProjectionConnectors } from './register';
