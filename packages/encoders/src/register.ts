import type { ComponentRegistry } from '@mllm/core';
import { VisionTransformer, vitSchema } from './vit';

/** Adds this package's encoder types to a registry. */
export function registerEncoders(registry: Pick<ComponentRegistry, 'encoders'>): void {
  registry.encoders.register('vit', vitSchema, (config, { rng }) => new VisionTransformer(config, rng));
}
