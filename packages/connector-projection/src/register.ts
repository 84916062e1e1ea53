import type { ComponentRegistry } from '@mllm/core';
import { LinearProjector, linearProjectorSchema } from './linear-projector';
import { MlpProjector, mlpProjectorSchema } from './mlp-projector';
import { estimateLinearProjector, estimateMlpProjector } from './size-estimate';

/** Adds `linear` and `mlp` connector types to a registry. */
export function registerProjectionConnectors(registry: Pick<ComponentRegistry, 'connectors'>): void {
  registry.connectors.register('linear', linearProjectorSchema, (_c, ctx) => new LinearProjector(ctx.inputDim, ctx.outputDim, ctx.rng), { estimate: estimateLinearProjector });
  registry.connectors.register('mlp', mlpProjectorSchema, (c, ctx) => new MlpProjector(c, ctx.inputDim, ctx.outputDim, ctx.rng), { estimate: estimateMlpProjector });
}
