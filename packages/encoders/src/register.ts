import type { ComponentRegistry } from '@mllm/core';
import { VisionTransformer, vitSchema } from './vit';
import { HighResEncoder } from './high-res';

/** Adds this package's encoder types to a registry; `highRes` wraps the built encoder. */
export function registerEncoders(registry: Pick<ComponentRegistry, 'encoders'>): void {
  registry.encoders.register('vit', vitSchema, (config, { rng }) => {
    const vit = new VisionTransformer(config, rng);
    return config.highRes ? new HighResEncoder(vit, config.highRes, rng.fork('high-res')) : vit;
  });
}
