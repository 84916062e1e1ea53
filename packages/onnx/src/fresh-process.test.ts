import { describe, it, expect } from 'vitest';
import { cpSync, mkdirSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'tsup';
import { collatePrompts } from '@mllm/model';
import { exportModel } from './export-model';
import { IMAGE, linkRuntimeDependencies, tempDir, testImage, tinyModel } from './test-model.test-helper';

const here = dirname(fileURLToPath(import.meta.url));

/**
 * A deployment: the exported folder, a package.json and node_modules holding only
 * onnxruntime-node, @mllm/onnx's own dependencies that the runtime imports (zod, onnx-proto) and
 * @mllm/onnx's runtime entry bundled into one file with the tfjs-free modules it imports
 * (`@mllm/llm/decoding`, `@mllm/core/rng`), run by a fresh Node process. No
 * tfjs, no other @mllm package resolves there. The second test loads the built entry as npm links it.
 */
describe('the exported folder in a fresh Node process', () => {
  it('loads with only onnxruntime-node and @mllm/onnx, and gives the tfjs logits', async () => {
    const model = tinyModel();
    const app = tempDir('mllm-onnx-deploy-');
    await exportModel(model, join(app, 'export-tmp'), { maxPositions: 32 });
    cpSync(join(app, 'export-tmp'), join(app, 'model'), { recursive: true });

    const pkg = join(app, 'node_modules', '@mllm', 'onnx');
    await build({ entry: { runtime: join(here, 'runtime.ts') }, format: ['esm'], outDir: join(pkg, 'dist'), platform: 'node', target: 'node20', external: ['onnxruntime-node'], noExternal: [/^@mllm\//], config: false, silent: true, dts: false });
    writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: '@mllm/onnx', version: '0.1.0', type: 'module', exports: { './runtime': './dist/runtime.js' } }));
    const ortDir = dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'));
    symlinkSync(realpathSync(ortDir), join(app, 'node_modules', 'onnxruntime-node'), 'dir');
    linkRuntimeDependencies(app);
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

  it('the built @mllm/onnx/runtime, ESM and CJS, samples as tfjs does with no @tensorflow module loaded', async () => {
    const model = tinyModel();
    const app = tempDir('mllm-onnx-built-');
    await exportModel(model, join(app, 'model'), { maxPositions: 32 });
    // the package as npm links it: node_modules/@mllm/onnx -> packages/onnx, resolved through its `exports`
    mkdirSync(join(app, 'node_modules', '@mllm'), { recursive: true });
    symlinkSync(realpathSync(join(here, '..')), join(app, 'node_modules', '@mllm', 'onnx'), 'dir');
    const prompt = { ids: [1, IMAGE, 9, 10, 11], images: [Array.from(testImage(1))] };
    const options = { maxNewTokens: 6, stopTokens: [], temperature: 1.5, topK: 10, topP: 0.9, repetitionPenalty: 1.3, seed: 7 };
    const generate = `const model = await OnnxMultimodalModel.load('./model', { threads: 1 });
const prompt = ${JSON.stringify(prompt)};
const tokens = await model.generate([{ ids: prompt.ids, images: prompt.images.map((i) => Float32Array.from(i)) }], ${JSON.stringify(options)});`;
    // every module the ESM loader resolves, logged by a resolve hook; CommonJS ones are in require.cache
    writeFileSync(join(app, 'hooks.mjs'), `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  appendFileSync(process.env.LOAD_LOG, resolved.url + '\\n');
  return resolved;
}
`);
    writeFileSync(join(app, 'register.mjs'), `import { register } from 'node:module';\nregister('./hooks.mjs', import.meta.url);\n`);
    writeFileSync(
      join(app, 'main.mjs'),
      `import { createRequire } from 'node:module';
import { OnnxMultimodalModel } from '@mllm/onnx/runtime';
${generate}
console.log(JSON.stringify({ tokens, cjs: Object.keys(createRequire(import.meta.url).cache) }));
`,
    );
    writeFileSync(
      join(app, 'main.cjs'),
      `const { OnnxMultimodalModel } = require('@mllm/onnx/runtime');
(async () => {
${generate}
console.log(JSON.stringify({ tokens, cjs: Object.keys(require.cache) }));
})();
`,
    );
    const want = model.generate([{ ...prompt, images: [testImage(1)], lossMask: [0, 0, 0, 0, 0] }], options);
    const runs = [
      ['ESM', ['--import', './register.mjs', 'main.mjs']],
      ['CJS', ['main.cjs']],
    ] as const;
    for (const [format, args] of runs) {
      const log = join(app, `${format}.log`);
      writeFileSync(log, '');
      const run = spawnSync(process.execPath, args, { cwd: app, encoding: 'utf8', env: { PATH: process.env.PATH, LOAD_LOG: log } });
      expect(run.stderr, format).toBe('');
      expect(run.status, format).toBe(0);
      const out = JSON.parse(run.stdout) as { tokens: number[][]; cjs: string[] };
      const loaded = [...readFileSync(log, 'utf8').split('\n'), ...out.cjs].filter((l) => l.length > 0);
      expect(loaded.filter((l) => l.includes('@tensorflow')), format).toEqual([]);
      // the one TokenPicker, reached by package name: @mllm/llm's decoding entry and @mllm/core's rng entry, not their indexes
      expect(loaded.some((l) => /llm\/dist\/decoding\.c?js$/.test(l)), format).toBe(true);
      expect(loaded.some((l) => /core\/dist\/rng\.c?js$/.test(l)), format).toBe(true);
      expect(loaded.filter((l) => /(llm|core)\/dist\/index\.c?js$/.test(l)), format).toEqual([]);
      expect(out.tokens, format).toEqual(want);
    }
    model.dispose();
  });
});

