import type { ComponentRegistry } from '@mllm/core';
import { QFormer, qformerSchema } from './qformer';
import { PerceiverResampler, perceiverSchema } from './perceiver-resampler';

/** Adds the `qformer` and `perceiver` connector types to a registry. */
export function registerQueryConnectors(registry: Pick<ComponentRegistry, 'connectors'>): void {
  registry.connectors.register('qformer', qformerSchema, (c, ctx) => new QFormer(c, ctx.inputDim, ctx.outputDim, ctx.rng));
  registry.connectors.register('perceiver', perceiverSchema, (c, ctx) => new PerceiverResampler(c, ctx.inputDim, ctx.outputDim, ctx.rng));
}
