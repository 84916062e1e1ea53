import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { ConfigError, Linear, Module, type Rng, type TokenConnector, type TokenGrid } from '@mllm/core';
import { buildModel, collatePrompts, createComponentRegistry } from '@mllm/model';
import { createOnnxExporters } from './exporter-registry';
import { registerOnnxExporters } from './register-exporters';
import { exportModel } from './export-model';
import { OnnxMultimodalModel } from './runtime';
import { linear, type ConnectorExporter } from './graph';
import { IMAGE, VOCAB, sharpen, tempDir, testImage } from './test-model.test-helper';

/**
 * A connector written the way a third party would (its own type, factory and exporter, only
 * public names): it reads the token grid to average each 2 x 2 cell of patches, so the export
 * and the tfjs forward agree only when both see the grid the same way (CLS first here).
 * Shapes: B batch, N tokens, R x C grid, D width.
 */
class CellPool extends Module implements TokenConnector {
  readonly kind = 'token-connector' as const;
  readonly proj: Linear;

  constructor(readonly grid: TokenGrid, inputDim: number, outputDim: number, rng: Rng) {
    super();
    this.proj = this.add('proj', new Linear(inputDim, outputDim, rng));
  }

  outputTokens(): number {
    return (this.grid.rows / 2) * (this.grid.columns / 2);
  }

  forward(features: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() => {
      const { rows, columns, leading } = this.grid;
      const [b, , d] = features.shape;
      const map = features.slice([0, leading, 0], [-1, rows * columns, -1]).reshape([b, rows, columns, d]) as tf.Tensor4D; // [B, R, C, D]
      const pooled = tf.avgPool(map, 2, 2, 'valid').reshape([b, this.outputTokens(), d]); // [B, R/2 * C/2, D]
      return this.proj.forward(pooled) as tf.Tensor3D;
    });
  }
}

const cellPoolExporter: ConnectorExporter<CellPool> = {
  imageFeatures(g, connector, features, ctx) {
    const { rows, columns, leading } = ctx.tokenGrid!;
    const d = ctx.inputDim;
    const grid = g.op('Slice', [features, g.constInt64([leading]), g.constInt64([leading + rows * columns]), g.constInt64([1])]); // [B, R*C, D]
    const map = g.op('Reshape', [g.op('Transpose', [grid], { perm: { ints: [0, 2, 1] } }), g.constInt64([0, d, rows, columns])]); // [B, D, R, C]
    const pooled = g.op('AveragePool', [map], { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] } }); // [B, D, R/2, C/2]
    const tokens = g.op('Transpose', [g.op('Reshape', [pooled, g.constInt64([0, d, -1])])], { perm: { ints: [0, 2, 1] } }); // [B, M, D]
    return { features: linear(g, tokens, connector.proj, `${ctx.name}.proj`), tokens: connector.outputTokens() };
  },
};

function gridModel() {
  const registry = createComponentRegistry();
  let seen: TokenGrid | undefined;
  registry.connectors.register('cell-pool', z.object({ type: z.literal('cell-pool') }).strict(), (_c, ctx) => {
    seen = ctx.tokenGrid;
    if (!ctx.tokenGrid) throw new ConfigError([{ path: 'connector.type', message: 'cell-pool needs a token grid' }]);
    return new CellPool(ctx.tokenGrid, ctx.inputDim, ctx.outputDim, ctx.rng);
  });
  const config = {
    encoder: { type: 'vit', imageSize: 16, patchSize: 4, dim: 8, layers: 2, heads: 2, includeCls: true },
    connector: { type: 'cell-pool' },
    llm: { type: 'causal', dim: 16, layers: 2, heads: 4, kvHeads: 2 },
  };
  const model = sharpen(buildModel(config, { registry, vocabSize: VOCAB, special: { imageTokenId: IMAGE, padId: 0 }, seed: 3 }), 3);
  return { model, seen };
}

describe('a connector type added from outside, with its own exporter', () => {
  it('gets the encoder token grid at build and at export, and exports to the tfjs numbers', async () => {
    const { model, seen } = gridModel();
    expect(seen).toEqual({ rows: 4, columns: 4, leading: 1, trailing: 0 }); // 16 / 4 patches a side, CLS first
    expect(model.componentConfigs?.connector).toEqual({ type: 'cell-pool' });
    expect(model.tokensPerImage).toBe(4);
    const exporters = createOnnxExporters();
    registerOnnxExporters(exporters);
    exporters.connectors.register('cell-pool', cellPoolExporter);
    const dir = tempDir('mllm-onnx-grid-');
    const manifest = await exportModel(model, dir, { exporters, maxPositions: 64 });
    expect(manifest.components.connector).toEqual({ type: 'cell-pool' });
    expect(manifest.image.tokensPerImage).toBe(4);

    const ort = await OnnxMultimodalModel.load(dir, { threads: 1 });
    const images = [testImage(1, 16), testImage(2, 16)];
    const ours = await ort.encodeImages(images);
    const want = model.encodeImages(model.imagesToTensor(images));
    expect(ours.dims).toEqual([2, 4, 16]);
    const diff = (a: ArrayLike<number>, b: ArrayLike<number>) => Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i]!)));
    const scale = Math.max(...Array.from(want.dataSync(), Math.abs));
    expect(scale).toBeGreaterThan(0.1); // features of real size, so the bound below means something
    expect(diff(ours.data as Float32Array, want.dataSync())).toBeLessThan(1e-5);

    const prompts = [{ ids: [1, IMAGE, 9, 10], images: [images[0]!] }];
    const samples = prompts.map((p) => ({ ...p, lossMask: p.ids.map(() => 0) }));
    const logits = model.forward({ ...collatePrompts(samples, model.batchOptions) });
    expect(diff((await ort.promptLogits(prompts)).data as Float32Array, logits.dataSync())).toBeLessThan(1e-4);
    expect(await ort.generate(prompts, { maxNewTokens: 4, stopTokens: [] })).toEqual(model.generate(samples, { maxNewTokens: 4, stopTokens: [] }));
    logits.dispose();
    want.dispose();
    await ort.release();
    model.dispose();
  });
});
