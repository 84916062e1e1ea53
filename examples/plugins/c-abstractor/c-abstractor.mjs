// A connector type from outside the repository, in one file: its module (tfjs), its config schema,
// its ONNX exporter, and the `register(registry)` that a config's "plugins" entry calls.
//
// C-Abstractor-like pooling projector. Honeybee, Cha et al., arXiv:2312.06742: the image tokens are
// put back on their patch grid, mixed with their neighbours by convolutions, pooled to fewer tokens,
// and projected to the LLM width, so the LLM reads M = (rows / s) * (columns / s) tokens that keep
// the image's layout. Simplified here: one residual 3 x 3 convolution instead of Honeybee's two
// stages of RegNet bottleneck blocks (with squeeze-excitation and LayerNorm), a fixed s x s average
// pool instead of adaptive pooling to a chosen token count, and LLaVA-1.5's two-layer GELU MLP as
// the readout. Non-grid tokens (CLIP's CLS when the encoder keeps it) are dropped.
//
// Shapes: B images, N encoder tokens, R x C token grid, s pool side, M = (R / s) * (C / s), D_enc
// encoder width, D_llm LLM width.

import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { ConfigError, Linear, MllmError, Module, geluErf, normalInit } from '@mllm/core';
import { gelu as geluNodes, linear as linearNodes, values } from '@mllm/onnx/graph';

/** The connector's config: `{ "type": "c-abstractor", "pool": 2 }`. */
export const cAbstractorSchema = z
  .object({
    type: z.literal('c-abstractor'),
    /** Side s of the square cell of grid tokens averaged into one; it must divide the grid. */
    pool: z.number().int().min(1).default(2),
  })
  .strict();

/** 3 x 3 convolution over [B, R, C, D], zero padding 1, weights stored [out, in, 3, 3] as PyTorch's Conv2d. */
class Conv3x3 extends Module {
  constructor(dim, rng) {
    super();
    // small weights: the residual branch starts near zero, so the pooled features start as the encoder's
    this.weight = this.param('weight', normalInit(rng, [dim, dim, 3, 3], 0.02));
    this.bias = this.param('bias', tf.zeros([dim]));
  }

  /** As nine shifted copies and one matMul: every op here has a gradient on the wasm backend (tf.conv2d's filter gradient has none). */
  forward(map) {
    return tf.tidy(() => {
      const [b, rows, cols, d] = map.shape;
      const padded = map.pad([[0, 0], [1, 1], [1, 1], [0, 0]]); // [B, R+2, C+2, D]
      const shifted = [];
      for (let dy = 0; dy < 3; dy++) for (let dx = 0; dx < 3; dx++) shifted.push(padded.slice([0, dy, dx, 0], [b, rows, cols, d]));
      const patches = tf.concat(shifted, 3).reshape([b * rows * cols, 9 * d]); // [B*R*C, 9D] in (dy, dx, in) order
      const kernel = this.weight.transpose([2, 3, 1, 0]).reshape([9 * d, d]); // [9D, D]: row (dy*3 + dx)*D + in
      return patches.matMul(kernel).add(this.bias).reshape([b, rows, cols, d]); // [B, R, C, D]
    });
  }
}

/** Token grid -> residual 3 x 3 conv -> s x s average pool -> GELU MLP readout. */
export class CAbstractor extends Module {
  kind = 'token-connector';

  constructor(config, grid, inputDim, outputDim, rng) {
    super();
    this.grid = grid;
    this.pool = config.pool;
    this.conv = this.add('conv', new Conv3x3(inputDim, rng));
    this.fc1 = this.add('readout.linear_1', new Linear(inputDim, outputDim, rng));
    this.fc2 = this.add('readout.linear_2', new Linear(outputDim, outputDim, rng));
  }

  /** M: one token per pooled cell, whatever the non-grid tokens. */
  outputTokens(inputTokens) {
    const { rows, columns, leading, trailing } = this.grid;
    if (inputTokens !== leading + rows * columns + trailing)
      throw new MllmError(`c-abstractor: built for a ${rows} x ${columns} token grid (${leading + rows * columns + trailing} tokens), got ${inputTokens}; images must be encoded at the encoder's own size`);
    return (rows / this.pool) * (columns / this.pool);
  }

  forward(features) {
    return tf.tidy(() => {
      const { rows, columns, leading } = this.grid;
      const s = this.pool;
      const [b, n, d] = features.shape;
      const m = this.outputTokens(n);
      const map = features.slice([0, leading, 0], [b, rows * columns, d]).reshape([b, rows, columns, d]); // [B, R, C, D_enc]
      const mixed = map.add(this.conv.forward(map)); // [B, R, C, D_enc]
      const pooled = mixed.reshape([b, rows / s, s, columns / s, s, d]).mean([2, 4]).reshape([b, m, d]); // [B, M, D_enc]
      return this.fc2.forward(geluErf(this.fc1.forward(pooled))); // [B, M, D_llm]
    });
  }
}

/**
 * The same computation as ONNX nodes, written into vision_encoder.onnx after the encoder:
 * features [B, N, D_enc] -> image_features [B, M, D_llm]. Initializers are named after the
 * module's parameters (`multi_modal_projector.conv.weight`, ...).
 */
export const cAbstractorExporter = {
  imageFeatures(g, connector, features, ctx) {
    const { rows, columns, leading } = connector.grid;
    const s = connector.pool;
    const d = ctx.inputDim;
    const m = connector.outputTokens(ctx.inputTokens);
    const grid = g.op('Slice', [features, g.constInt64([leading]), g.constInt64([leading + rows * columns]), g.constInt64([1])]); // [B, R*C, D]
    const map = g.op('Reshape', [grid, g.constInt64([0, rows, columns, d])]); // [B, R, C, D]
    const nchw = g.op('Transpose', [map], { perm: { ints: [0, 3, 1, 2] } }); // [B, D, R, C]
    const weight = g.floatTensor(`${ctx.name}.conv.weight`, values(connector.conv.weight), [d, d, 3, 3]);
    const bias = g.floatTensor(`${ctx.name}.conv.bias`, values(connector.conv.bias), [d]);
    const conv = g.op('Conv', [nchw, weight, bias], { kernel_shape: { ints: [3, 3] }, pads: { ints: [1, 1, 1, 1] } }); // [B, D, R, C]
    const mixed = g.op('Add', [map, g.op('Transpose', [conv], { perm: { ints: [0, 2, 3, 1] } })]); // [B, R, C, D]
    const cells = g.op('Reshape', [mixed, g.constInt64([0, rows / s, s, columns / s, s, d])]); // [B, R/s, s, C/s, s, D]
    const pooled = g.op('Reshape', [g.op('ReduceMean', [cells], { axes: { ints: [2, 4] }, keepdims: { int: 0 } }), g.constInt64([0, m, d])]); // [B, M, D]
    const hidden = geluNodes(g, linearNodes(g, pooled, connector.fc1, `${ctx.name}.readout.linear_1`));
    return { features: linearNodes(g, hidden, connector.fc2, `${ctx.name}.readout.linear_2`), tokens: m }; // [B, M, D_llm]
  },
};

/** Called once per registry a run builds (CLI, sweeps, data-parallel workers, export, chat). */
export function register(registry) {
  registry.connectors.register('c-abstractor', cAbstractorSchema, (config, ctx) => {
    const grid = ctx.tokenGrid;
    if (!grid)
      throw new ConfigError([{ path: 'connector.type', message: 'c-abstractor pools the encoder token grid, and this encoder has none (highRes tiles); use a "vit" encoder without tiles' }]);
    if (grid.rows % config.pool !== 0 || grid.columns % config.pool !== 0)
      throw new ConfigError([{ path: 'connector.pool', message: `${config.pool} does not divide the encoder's ${grid.rows} x ${grid.columns} token grid; pick a divisor of both` }]);
    return new CAbstractor(config, grid, ctx.inputDim, ctx.outputDim, ctx.rng);
  });
  registry.onnx.connectors.register('c-abstractor', cAbstractorExporter);
}
