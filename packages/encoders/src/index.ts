export { VisionTransformer, vitSchema, type VitConfig } from './vit';
export { registerEncoders } from './register';
