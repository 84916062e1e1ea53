export { QFormer, qformerSchema, type QFormerConfig } from './qformer';
export { QFormerLayer, type QFormerLayerConfig } from './qformer-layer';
export { QFormerAttention, QFormerMultiHeadAttention } from './qformer-attention';
export { PerceiverResampler, perceiverSchema, type PerceiverConfig } from './perceiver-resampler';
export { PerceiverLayer, PerceiverAttention } from './perceiver-layer';
export { registerQueryConnectors } from './register';
