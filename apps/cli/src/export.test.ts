import { describe, it, expect, beforeAll } from 'vitest';
import { cpSync, mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { saveSafetensors, silentLogger } from '@mllm/core';
import { OnnxMultimodalModel } from '@mllm/onnx';
import { imageToPngBuffer, renderScene } from '@mllm/data';
import { main } from './main';
import { modelAnswerer, buildEvalSet, onnxAnswerer, run as runPipeline, openRun } from '@mllm/run';
import { capture } from './capture-output.test-helper';

const tiny = JSON.parse(readFileSync(new URL('../../../configs/tiny.json', import.meta.url), 'utf8'));
// one short stage: the test is about the export, not the training
const config = { ...tiny, stages: [{ type: 'instruct', steps: 4, batchSize: 8, checkpointEvery: 0, evalEvery: 0 }] };

describe('mllm export / --runtime onnx', () => {
  const root = mkdtempSync(join(tmpdir(), 'mllm-export-'));
  const run = join(root, 'run');
  const onnx = join(root, 'onnx');
  beforeAll(async () => {
    await runPipeline(config, { out: run, logger: silentLogger });
    // a few training steps leave near-constant answers; redrawn weights answer every prompt
    // differently, so equal metrics below mean equal answers, not two empty ones
    const session = await openRun(run);
    session.model.namedParameters().forEach(([, p], i) => {
      if (p.shape.length >= 2) p.assign(tf.randomNormal(p.shape, 0, 0.5, 'float32', 100 + i));
    });
    await saveSafetensors(join(run, 'model.safetensors'), session.model.stateDict(), { format: 'pt' });
    session.model.dispose();
  });

  it('exports a run, and eval --runtime onnx scores POPE and CHAIR exactly as the tfjs eval', async () => {
    const c = capture();
    expect(await main(['export', '--checkpoint', run, '--out', onnx])).toBe(0);
    expect(await main(['eval', '--runtime', 'onnx', '--model', onnx, '--threads', '1'])).toBe(0);
    expect(await main(['eval', '--checkpoint', run])).toBe(0);
    c.restore();
    for (const f of ['onnx/vision_encoder.onnx', 'onnx/embed_tokens.onnx', 'onnx/decoder_model_merged.onnx', 'config.json', 'tokenizer.json', 'tokenizer_config.json', 'mllm.json'])
      expect(existsSync(join(onnx, f)), f).toBe(true);
    expect(c.out.join('')).toMatch(/POPE random/);
    const ours = JSON.parse(readFileSync(join(onnx, 'eval-onnx.json'), 'utf8'));
    const tfjs = JSON.parse(readFileSync(join(run, 'eval.json'), 'utf8'));
    expect(ours.pope).toEqual(tfjs.pope);
    expect(ours.chair).toEqual(tfjs.chair);
    expect(ours.closedSet).toEqual(tfjs.closedSet);
    console.log('POPE random (tfjs = onnx)', JSON.stringify(ours.pope.random), 'CHAIR', JSON.stringify(ours.chair));
  });

  it('every POPE and caption answer of the test set is the same string from both runtimes', async () => {
    const session = await openRun(run);
    const ort = await OnnxMultimodalModel.load(onnx);
    const evalSet = buildEvalSet(session.world, session.config);
    const requests = [...evalSet.pope.adversarial.map((q) => ({ sceneId: q.sceneId, prompt: q.question })), ...evalSet.scenes.map((s) => ({ sceneId: s.id, prompt: evalSet.captionPrompt }))];
    const max = session.config.eval.maxNewTokens;
    const want = await modelAnswerer(session.model, session.tokenizer, session.world, max).answer(requests);
    const got = await onnxAnswerer(ort, session.tokenizer, (id) => session.world.image(id), max).answer(requests);
    expect(got).toEqual(want);
    expect(new Set(want).size).toBeGreaterThan(requests.length / 2); // the answers differ from one another
    await ort.release();
    session.model.dispose();
  });

  it('--dtype fp16 writes the *_fp16.onnx files transformers.js picks for that dtype', async () => {
    const out = join(root, 'fp16');
    const c = capture();
    expect(await main(['export', '--checkpoint', run, '--out', out, '--dtype', 'fp16'])).toBe(0);
    c.restore();
    expect(JSON.parse(readFileSync(join(out, 'mllm.json'), 'utf8')).weights).toBe('fp16');
    expect(existsSync(join(out, 'onnx/decoder_model_merged_fp16.onnx'))).toBe(true);
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'))['transformers.js_config'].dtype).toBe('fp16');
  });

  it('chat --runtime onnx answers a PNG as the tfjs chat does', async () => {
    const world = (await openRun(run)).world;
    const png = join(root, 'scene.png');
    writeFileSync(png, await imageToPngBuffer(renderScene(world.scenes('test')[0]!, { imageSize: 16 }), 16));
    const ask = ['--image', png, '--prompt', 'what is in the image ?', '--max-new-tokens', '6'];
    const c = capture();
    expect(await main(['chat', '--checkpoint', run, ...ask])).toBe(0);
    const tfjsOut = c.out.splice(0).join('');
    expect(await main(['chat', '--runtime', 'onnx', '--model', onnx, ...ask])).toBe(0);
    c.restore();
    expect(tfjsOut.trim().length).toBeGreaterThan(0);
    expect(c.out.join('').trim()).toBe(tfjsOut.trim());
  });

  it('names what is missing or wrong', async () => {
    const c = capture();
    expect(await main(['export', '--checkpoint', run])).toBe(2);
    expect(await main(['export', '--checkpoint', run, '--out', join(root, 'x'), '--weights', 'int4'])).toBe(2);
    expect(await main(['export', '--checkpoint', run, '--out', join(root, 'x'), '--dtype', 'q4'])).toBe(2);
    expect(await main(['export', '--checkpoint', run, '--out', join(root, 'x'), '--ops', 'fused'])).toBe(2);
    expect(await main(['chat', '--runtime', 'onnx', '--model', join(root, 'nope'), '--image', 'a.png', '--prompt', 'hi'])).toBe(2);
    expect(await main(['eval', '--runtime', 'torch', '--model', onnx])).toBe(2);
    c.restore();
    const err = c.err.join('');
    expect(err).toMatch(/mllm export needs --checkpoint DIR .* and --out DIR/);
    expect(err).toMatch(/--dtype must be one of fp32, fp16, int8 for --format onnx, got "int4"/);
    expect(err).toMatch(/--dtype must be one of fp32, fp16, int8 for --format onnx, got "q4"/);
    expect(err).toMatch(/--ops must be one of contrib, standard, got "fused"/);
    expect(err).toMatch(/nope\/mllm\.json: not found/);
    expect(err).toMatch(/--runtime must be tfjs or onnx, got torch/);
  });

  it('refuses a tampered ONNX folder with the file and field, and no stack trace', async () => {
    const tampered = (name: string, tamper: (dir: string) => void) => {
      const dir = join(root, name);
      cpSync(onnx, dir, { recursive: true });
      tamper(dir);
      return dir;
    };
    const editManifest = (edit: (m: Record<string, any>) => void) => (dir: string) => {
      const m = JSON.parse(readFileSync(join(dir, 'mllm.json'), 'utf8'));
      edit(m);
      writeFileSync(join(dir, 'mllm.json'), JSON.stringify(m));
    };
    const png = join(root, 'scene.png');
    const cases = [
      [tampered('huge-image', editManifest((m) => (m.image.size = 100000))), /mllm\.json: field "image\.size" must be at most 4096 \(got 100000\)/],
      [tampered('tokens', editManifest((m) => (m.image.tokensPerImage += 1))), /mllm\.json: field "image\.tokensPerImage" is \d+ but \S*vision_encoder\.onnx: output "image_features" has \d+ there/],
      [tampered('outside', editManifest((m) => (m.files.decoder = '../onnx/onnx/decoder_model_merged.onnx'))), /field "files\.decoder" must be a path inside the model folder/],
      [tampered('truncated', (d) => writeFileSync(join(d, 'onnx/decoder_model_merged.onnx'), readFileSync(join(d, 'onnx/decoder_model_merged.onnx')).subarray(0, 1000))), /decoder_model_merged\.onnx: not a readable ONNX model/],
    ] as const;
    for (const [dir, message] of cases) {
      const c = capture();
      const codes = [
        await main(['chat', '--runtime', 'onnx', '--model', dir, '--image', png, '--prompt', 'hi']),
        await main(['eval', '--runtime', 'onnx', '--model', dir]),
      ];
      c.restore();
      expect(codes, dir).toEqual([2, 2]);
      const err = c.err.join('');
      expect(err.match(new RegExp(message.source, 'g')), err).toHaveLength(2);
      expect(err, dir).not.toMatch(/\n\s+at /);
    }
  });
});
