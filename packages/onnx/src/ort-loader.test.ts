import { describe, it, expect } from 'vitest';
import { cpSync, mkdirSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'tsup';
import { exportModel } from './export-model';
import { OnnxMultimodalModel } from './runtime';
import { ORT_NODE_INSTALL, chooseOrt, defaultIntraOpThreads, ortEngine } from './ort-loader';
import { IMAGE, linkRuntimeDependencies, tempDir, testImage, tinyModel } from './test-model.test-helper';

const here = dirname(fileURLToPath(import.meta.url));
const requireHere = createRequire(import.meta.url);

describe('chooseOrt', () => {
  it('takes onnxruntime-node when it loads', () => {
    const choice = chooseOrt((id) => ({ id }));
    expect(choice.package).toBe('onnxruntime-node');
    expect(choice.fallbackReason).toBeUndefined();
  });

  it('falls back to onnxruntime-web and keeps why onnxruntime-node did not load', () => {
    const choice = chooseOrt((id) => {
      if (id === 'onnxruntime-node') throw new Error("Cannot find module 'onnxruntime-node'\nRequire stack: ...");
      return { id };
    });
    expect(choice).toEqual({ package: 'onnxruntime-web', ort: { id: 'onnxruntime-web' }, fallbackReason: "Cannot find module 'onnxruntime-node'" });
  });

  it('with neither installed, the error names both reasons and the install command', () => {
    expect(() =>
      chooseOrt((id) => {
        throw new Error(`Cannot find module '${id}'`);
      }),
    ).toThrow(`onnxruntime-node: Cannot find module 'onnxruntime-node'; onnxruntime-web: Cannot find module 'onnxruntime-web'). Install one: ${ORT_NODE_INSTALL}`);
  });

  it('this repository runs on onnxruntime-node (its install skips only the CUDA download)', () => {
    expect(ortEngine()).toEqual({ package: 'onnxruntime-node' });
  });

  it('on onnxruntime-node, sessions default to every CPU this process may use', () => {
    expect(defaultIntraOpThreads()).toBe(availableParallelism());
  });
});

/**
 * A user's install where onnxruntime-node's postinstall failed and npm dropped the optional
 * package: node_modules holds @mllm/onnx's runtime entry (bundled from source, with the tfjs-free
 * @mllm/llm/decoding and @mllm/core/rng it imports) and onnxruntime-web only. The same export must give onnxruntime-node's tokens.
 */
// head width 4: a standard-op decoder; 16: the default export's contrib ops (GroupQueryAttention, RotaryEmbedding, SkipSimplifiedLayerNormalization)
describe.each([
  ['standard ops', undefined],
  ['contrib ops', { type: 'causal', dim: 32, layers: 2, heads: 2, kvHeads: 1 }],
])('an install without onnxruntime-node, decoder on %s', (_name, llm) => {
  it('runs the exported model on onnxruntime-web, warns once with the fix, and gives the same tokens', async () => {
    const model = tinyModel(llm ? { llm } : {});
    const app = tempDir('mllm-onnx-web-');
    await exportModel(model, join(app, 'export-tmp'), { maxPositions: 32 });
    cpSync(join(app, 'export-tmp'), join(app, 'model'), { recursive: true });
    model.dispose();

    const pkg = join(app, 'node_modules', '@mllm', 'onnx');
    await build({ entry: { runtime: join(here, 'runtime.ts') }, format: ['esm'], outDir: join(pkg, 'dist'), platform: 'node', target: 'node20', external: ['onnxruntime-node', 'onnxruntime-web'], noExternal: [/^@mllm\//], config: false, silent: true, dts: false });
    writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: '@mllm/onnx', version: '0.1.0', type: 'module', exports: { './runtime': './dist/runtime.js' } }));
    const webDir = join(dirname(requireHere.resolve('onnxruntime-web')), '..'); // its exports hide package.json
    symlinkSync(realpathSync(webDir), join(app, 'node_modules', 'onnxruntime-web'), 'dir');
    linkRuntimeDependencies(app);
    mkdirSync(join(app, 'out'));
    writeFileSync(join(app, 'package.json'), JSON.stringify({ private: true, type: 'module', dependencies: { '@mllm/onnx': '0.1.0' } }));

    const prompts = [1, 2].map((seed) => ({ ids: [1, IMAGE, 9, 10 + seed, 11], images: [testImage(seed)] }));
    writeFileSync(
      join(app, 'main.mjs'),
      `import { OnnxMultimodalModel, ortEngine } from '@mllm/onnx/runtime';
const prompts = ${JSON.stringify(prompts.map((p) => ({ ids: p.ids, images: p.images.map((i) => Array.from(i)) })))}.map((p) => ({ ids: p.ids, images: p.images.map((i) => Float32Array.from(i)) }));
const model = await OnnxMultimodalModel.load('./model');
await OnnxMultimodalModel.load('./model');
const logits = await model.promptLogits(prompts);
const tokens = await model.generate(prompts, { maxNewTokens: 8, stopTokens: [] });
console.log(JSON.stringify({ engine: ortEngine(), logits: Array.from(logits.data), tokens }));
`,
    );
    const run = spawnSync(process.execPath, ['main.mjs'], { cwd: app, encoding: 'utf8', env: { PATH: process.env.PATH } });
    expect(run.status, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout) as { engine: { package: string; fallbackReason: string }; logits: number[]; tokens: number[][] };
    expect(out.engine.package).toBe('onnxruntime-web');
    expect(out.engine.fallbackReason).toContain("Cannot find module 'onnxruntime-node'");
    // two loads, one warning, naming the command that installs onnxruntime-node here
    expect(run.stderr.match(/MLLM_ONNXRUNTIME_WEB/g)).toHaveLength(1);
    expect(run.stderr).toContain(ORT_NODE_INSTALL);

    const native = await OnnxMultimodalModel.load(join(app, 'model'));
    try {
      const want = await native.promptLogits(prompts);
      expect(out.logits).toHaveLength(want.data.length);
      const w = want.data as Float32Array;
      expect(Math.max(...out.logits.map((v, i) => Math.abs(v - w[i]!)))).toBeLessThan(1e-4);
      const tokens = await native.generate(prompts, { maxNewTokens: 8, stopTokens: [] });
      expect(out.tokens).toEqual(tokens);
      // the tiny model's answers depend on the prompt, so equal tokens are not a constant
      expect(tokens[0]).not.toEqual(tokens[1]);
    } finally {
      await native.release();
    }
  });
});
