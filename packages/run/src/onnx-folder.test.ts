import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { cpSync, mkdtempSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MllmError } from '@mllm/core';
import { buildModel, createComponentRegistry, type MultimodalModel } from '@mllm/model';
import { exportModel } from '@mllm/onnx';
import { WordTokenizer } from '@mllm/tokenizer';
import { openOnnxChat } from './onnx-chat';

/**
 * The tokenizer of an exported folder is checked against mllm.json (which load checks against
 * the graphs): the decoder's logits index its vocabulary, so another one would decode other words.
 */

const CORPUS = ['a red square is left of a blue circle', 'what shape is the green triangle ?'];

let model: MultimodalModel;
let original: string;

beforeAll(async () => {
  const tokenizer = WordTokenizer.train(CORPUS);
  model = buildModel(
    {
      encoder: { type: 'vit', imageSize: 8, patchSize: 4, dim: 8, layers: 1, heads: 2 },
      connector: { type: 'mlp' },
      llm: { type: 'causal', dim: 16, layers: 1, heads: 2 },
    },
    { registry: createComponentRegistry(), vocabSize: tokenizer.vocabSize, special: { imageTokenId: tokenizer.special.image, padId: tokenizer.special.pad }, seed: 1 },
  );
  original = join(mkdtempSync(join(tmpdir(), 'mllm-onnx-folder-')), 'model');
  await exportModel(model, original, { tokenizer, maxPositions: 64 });
});

afterAll(() => model.dispose());

async function tampered(tamper: (dir: string) => void | Promise<void>): Promise<string> {
  const dir = join(mkdtempSync(join(tmpdir(), 'mllm-onnx-folder-')), 'model');
  cpSync(original, dir, { recursive: true });
  await tamper(dir); // a tokenizer's save is async: the folder is read only once it is written
  return dir;
}

describe('openOnnxChat on an exported folder', () => {
  it('opens a valid export and answers a question', async () => {
    const chat = await openOnnxChat({ model: original, threads: 1 });
    expect(chat.imageSize).toBe(8);
    const written: string[] = [];
    const answer = await chat.reply(new Float32Array(8 * 8 * 3).fill(0.5), 'what shape ?', { maxNewTokens: 3 }, (t) => written.push(t));
    expect(written.join('')).toBe(`${answer}\n`);
    await chat.release();
  });

  it('refuses a tokenizer of another vocabulary, naming the file and both sizes', async () => {
    const dir = await tampered((d) => WordTokenizer.train([...CORPUS, 'one more word']).save(d));
    const size = WordTokenizer.train(CORPUS).vocabSize;
    const error = await openOnnxChat({ model: dir }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(MllmError);
    expect((error as Error).message).toMatch(
      new RegExp(`tokenizer\\.json: has ${size + 3} tokens but mllm\\.json llm\\.vocabSize and the decoder's logits have ${size}; mllm\\.json was edited or the tokenizer comes from another export`),
    );
  });

  it('refuses mllm.json special ids the tokenizer does not have (the graphs cannot tell)', async () => {
    const dir = await tampered((d) => {
      const manifest = JSON.parse(readFileSync(join(d, 'mllm.json'), 'utf8'));
      manifest.special.eos = 3;
      writeFileSync(join(d, 'mllm.json'), JSON.stringify(manifest));
    });
    await expect(openOnnxChat({ model: dir })).rejects.toThrow(/tokenizer\.json: has id 2 where mllm\.json special\.eos is 3/);
  });

  it('refuses a tokenizer.json that is a symlink out of the folder', async () => {
    const outside = join(mkdtempSync(join(tmpdir(), 'mllm-onnx-outside-')), 'tokenizer.json');
    const dir = await tampered((d) => {
      renameSync(join(d, 'tokenizer.json'), outside);
      symlinkSync(outside, join(d, 'tokenizer.json'));
    });
    await expect(openOnnxChat({ model: dir })).rejects.toThrow(/tokenizer\.json: leads to \S+, outside the model folder/);
  });

  it('refuses an edited mllm.json as an MllmError naming the field (no onnxruntime error)', async () => {
    const dir = await tampered((d) => {
      const manifest = JSON.parse(readFileSync(join(d, 'mllm.json'), 'utf8'));
      manifest.image.tokensPerImage = 7;
      writeFileSync(join(d, 'mllm.json'), JSON.stringify(manifest));
    });
    const error = await openOnnxChat({ model: dir }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(MllmError);
    expect((error as Error).message).toMatch(/mllm\.json: field "image\.tokensPerImage" is 7 but \S*vision_encoder\.onnx: output "image_features" has 4 there/);
  });
});
