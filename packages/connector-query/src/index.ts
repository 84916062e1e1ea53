// Query connectors: learned queries cross-attend to the image tokens (BLIP-2's Q-Former, Flamingo's Perceiver resampler).
export { QFormer, qformerSchema, type QFormerConfig } from './qformer';
export { PerceiverResampler, perceiverSchema, type PerceiverConfig } from './perceiver-resampler';

// Registration of the `qformer` and `perceiver` connector types.
export { registerQueryConnectors } from './register';
