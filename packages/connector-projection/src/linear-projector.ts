import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { Linear, Module, type Rng, type TokenConnector } from '@mllm/core';

export const linearProjectorSchema = z.object({ type: z.literal('linear') }).strict();

/** One linear map per visual token (LLaVA-1.0): [B, N, D_enc] -> [B, N, D_llm]. Liu et al., arXiv:2304.08485. */
export class LinearProjector extends Module implements TokenConnector {
  readonly kind = 'token-connector' as const;
  readonly proj: Linear;

  constructor(inputDim: number, outputDim: number, rng: Rng) {
    super();
    this.proj = this.add('linear', new Linear(inputDim, outputDim, rng));
  }

  outputTokens(inputTokens: number): number {
    return inputTokens;
  }

  forward(features: tf.Tensor3D): tf.Tensor3D {
    return this.proj.forward(features);
  }
}
