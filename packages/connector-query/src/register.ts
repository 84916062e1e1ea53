import type { ComponentRegistry } from '@mllm/core';
import { QFormer, qformerSchema } from './qformer';
import { PerceiverResampler, perceiverSchema } from './perceiver-resampler';
import { estimatePerceiver, estimateQFormer } from './size-estimate';

/** Adds the `qformer` and `perceiver` connector types to a registry. */
export function registerQueryConnectors(registry: Pick<ComponentRegistry, 'connectors'>): void {
  registry.connectors.register('qformer', qformerSchema, (c, ctx) => new QFormer(c, ctx.inputDim, ctx.outputDim, ctx.rng), { estimate: estimateQFormer });
  registry.connectors.register('perceiver', perceiverSchema, (c, ctx) => new PerceiverResampler(c, ctx.inputDim, ctx.outputDim, ctx.rng), { estimate: estimatePerceiver });
}
