import { describe, it, expect } from 'vitest';
import { cpSync, mkdirSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'tsup';
import { collatePrompts } from '@mllm/model';
import { exportModel } from './export-model';
import { IMAGE, tempDir, testImage, tinyModel } from './test-model.test-helper';

const here = dirname(fileURLToPath(import.meta.url));

/**
 * A deployment: the exported folder, a package.json and node_modules holding only
 * onnxruntime-node and @mllm/onnx's runtime entry (bundled from source as `npm run build`
 * bundles it), run by a fresh Node process. No tfjs, no other @mllm package resolves there.
 */
describe('the exported folder in a fresh Node process', () => {
  it('loads with only onnxruntime-node and @mllm/onnx, and gives the tfjs logits', async () => {
    const model = tinyModel();
    const app = tempDir('mllm-onnx-deploy-');
    await exportModel(model, join(app, 'export-tmp'), { maxPositions: 32 });
    cpSync(join(app, 'export-tmp'), join(app, 'model'), { recursive: true });

    const pkg = join(app, 'node_modules', '@mllm', 'onnx');
    await build({ entry: { runtime: join(here, 'runtime.ts') }, format: ['esm'], outDir: join(pkg, 'dist'), platform: 'node', target: 'node20', external: ['onnxruntime-node'], config: false, silent: true, dts: false });
    writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: '@mllm/onnx', version: '0.1.0', type: 'module', exports: { './runtime': './dist/runtime.js' } }));
    const ortDir = dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'));
    symlinkSync(realpathSync(ortDir), join(app, 'node_modules', 'onnxruntime-node'), 'dir');
    mkdirSync(join(app, 'out'));
    writeFileSync(join(app, 'package.json'), JSON.stringify({ private: true, type: 'module', dependencies: { '@mllm/onnx': '0.1.0', 'onnxruntime-node': '1.21.0' } }));
    const prompt = { ids: [1, IMAGE, 9, 10, 11], images: [Array.from(testImage(1))] };
    writeFileSync(
      join(app, 'main.mjs'),
      `import { OnnxMultimodalModel } from '@mllm/onnx/runtime';
const canResolve = (name) => import(name).then(() => true, () => false);
const model = await OnnxMultimodalModel.load('./model', { threads: 1 });
const prompt = ${JSON.stringify(prompt)};
const logits = await model.promptLogits([{ ids: prompt.ids, images: prompt.images.map((i) => Float32Array.from(i)) }]);
const tokens = await model.generate([{ ids: prompt.ids, images: prompt.images.map((i) => Float32Array.from(i)) }], { maxNewTokens: 6, stopTokens: [] });
console.log(JSON.stringify({ dims: logits.dims, logits: Array.from(logits.data), tokens, tfjs: await canResolve('@tensorflow/tfjs'), core: await canResolve('@mllm/core') }));
`,
    );
    const run = spawnSync(process.execPath, ['main.mjs'], { cwd: app, encoding: 'utf8', env: { PATH: process.env.PATH } });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const out = JSON.parse(run.stdout) as { dims: number[]; logits: number[]; tokens: number[][]; tfjs: boolean; core: boolean };
    expect(out.tfjs).toBe(false);
    expect(out.core).toBe(false);

    const batch = collatePrompts([{ ...prompt, images: [testImage(1)], lossMask: [0, 0, 0, 0, 0] }], model.batchOptions);
    const want = model.forward({ ...batch });
    expect(out.dims).toEqual(want.shape);
    const w = want.dataSync();
    expect(Math.max(...out.logits.map((v, i) => Math.abs(v - w[i]!)))).toBeLessThan(1e-4);
    expect(out.tokens).toEqual(model.generate([{ ...prompt, images: [testImage(1)], lossMask: [0, 0, 0, 0, 0] }], { maxNewTokens: 6, stopTokens: [] }));
    want.dispose();
    model.dispose();
  });
});
