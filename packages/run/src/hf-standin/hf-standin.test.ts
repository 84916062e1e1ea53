import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { MllmError, loadHfFolder, readSafetensorsHeader } from '@mllm/core';
import { loadHfVisionEncoder } from '@mllm/encoders';
import { loadHfCausalLm } from '@mllm/llm';
import { HfTokenizer } from '@mllm/tokenizer';
import { STANDIN_MODELS } from './catalog';
import { findStandinModel, writeHfStandin } from './write-standin';
import { toBf16Bits } from './safetensors-writer';
import { elementCount } from './tensor-plan';

const tmp = (label: string) => mkdtempSync(join(tmpdir(), `standin-${label}-`));

/** SmolLM2's family at a test size: the released vocabulary, tokenizer and GQA ratio, two narrow layers. */
const TINY_LLAMA = { hidden_size: 48, intermediate_size: 64, num_hidden_layers: 2, num_attention_heads: 6, num_key_value_heads: 2 };
const TINY_TOWER = { hidden_size: 32, intermediate_size: 48, num_hidden_layers: 2, num_attention_heads: 2, image_size: 32, patch_size: 16 };
const TINY_TEXT = { hidden_size: 16, intermediate_size: 24, num_hidden_layers: 1, num_attention_heads: 2, vocab_size: 50 };

function std(values: ArrayLike<number>): number {
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < values.length; i++) {
    s += values[i]!;
    s2 += values[i]! ** 2;
  }
  const mean = s / values.length;
  return Math.sqrt(s2 / values.length - mean * mean);
}

describe('released checkpoints at full size (plans only: no weights written)', () => {
  it('SmolLM2-135M has the released parameter count (134.5M with the tied embedding counted once) and no lm_head', () => {
    const m = findStandinModel('smollm2-135m-instruct');
    const tensors = m.tensors(m.config());
    expect(tensors.reduce((n, t) => n + elementCount(t.shape), 0)).toBe(134_515_008);
    expect(tensors.find((t) => t.name === 'lm_head.weight')).toBeUndefined();
    expect(tensors.find((t) => t.name === 'model.layers.29.self_attn.k_proj.weight')?.shape).toEqual([192, 576]); // 3 KV heads x 64
  });

  it('SmolLM2-360M, SigLIP-B/16 and CLIP ViT-B/16 have their released sizes', () => {
    const count = (name: string) => {
      const m = findStandinModel(name);
      return m.tensors(m.config()).filter((t) => !t.integer).reduce((n, t) => n + elementCount(t.shape), 0);
    };
    expect(count('smollm2-360m')).toBe(361_821_120);
    expect(count('siglip-base-patch16-224')).toBe(203_155_970); // SiglipModel: 92.9M vision (with its pooling head) + 110.3M text + logit scale and bias
    expect(count('clip-vit-base-patch16')).toBe(149_620_737); // CLIPModel as reported for openai/clip-vit-base-patch16
  });

  it('every name is unique and unknown names are refused with the list', () => {
    expect(new Set(STANDIN_MODELS.map((m) => m.name)).size).toBe(STANDIN_MODELS.length);
    expect(() => findStandinModel('smollm3')).toThrow(/no stand-in named "smollm3"; one of: smollm2-135m, .*clip-vit-base-patch16/);
  });
});

describe('a stand-in folder at test size loads through the HF import and runs', () => {
  it('SmolLM2-Instruct: config, sharded bf16 weights scaled as initialised, the tokenizer with its special ids, a finite forward', async () => {
    const dir = join(tmp('llm'), 'smollm2');
    const written = await writeHfStandin('smollm2-135m-instruct', dir, { overrides: TINY_LLAMA, maxShardBytes: 2_000_000 });
    const names = readdirSync(dir).sort();
    expect(names).toEqual(
      expect.arrayContaining(['README.md', 'config.json', 'generation_config.json', 'model.safetensors.index.json', 'special_tokens_map.json', 'tokenizer.json', 'tokenizer_config.json', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']),
    );
    const index = JSON.parse(readFileSync(join(dir, 'model.safetensors.index.json'), 'utf8'));
    const shardBytes = written.files.filter((f) => f.name.startsWith('model-')).map((f) => f.bytes);
    expect(shardBytes.length).toBe(2); // the 49152 x 48 embedding (4.7 MB) has a shard of its own, the layers share the second
    const header = await readSafetensorsHeader(join(dir, index.weight_map['model.layers.1.mlp.up_proj.weight']));
    expect(header.entries.every((e) => e.dtype === 'BF16')).toBe(true);

    const folder = await loadHfFolder(dir);
    try {
      const q = folder.tensors['model.layers.0.self_attn.q_proj.weight']!;
      expect(std(q.dataSync())).toBeCloseTo(0.0417, 2); // initializer_range of SmolLM2-135M
      expect(Array.from(folder.tensors['model.norm.weight']!.dataSync()).every((v) => v === 1)).toBe(true);
    } finally {
      tf.dispose(Object.values(folder.tensors));
    }

    const tokenizer = await HfTokenizer.load(dir);
    expect(tokenizer.vocabSize).toBe(49152 + 1); // <image> is added past the released vocabulary
    expect([tokenizer.tokenToId('<|endoftext|>'), tokenizer.tokenToId('<|im_start|>'), tokenizer.tokenToId('<|im_end|>'), tokenizer.tokenToId('<empty_output>')]).toEqual([0, 1, 2, 16]);
    expect(tokenizer.special.eos).toBe(2);
    const text = 'A café in 2024: naïve 東京 😀 costs €3.50';
    const ids = tokenizer.encode(text);
    expect(ids.every((id) => id >= 17 && id < 49152)).toBe(true);
    expect(ids.filter((id) => tokenizer.idToToken(id)?.length === 1).length).toBeLessThan(ids.length); // merges apply: not one token per byte
    expect(tokenizer.decode(ids)).toBe(text);

    const { model } = await loadHfCausalLm(dir);
    try {
      const prompt = tokenizer.encode('<|im_start|>user\nWhat is in the photo?<|im_end|>\n');
      expect(prompt[0]).toBe(1);
      const logits = tf.tidy(() => model.forward(model.embed(tf.tensor2d([prompt], [1, prompt.length], 'int32'))).logits);
      expect(logits.shape).toEqual([1, prompt.length, 49152]);
      const values = logits.dataSync();
      expect(values.every(Number.isFinite)).toBe(true);
      expect(std(values)).toBeGreaterThan(0.01); // random weights at init scale: varied, neither collapsed nor exploding
      expect(std(values)).toBeLessThan(10);
      logits.dispose();
    } finally {
      model.dispose();
    }
  });

  it.each([
    ['siglip-base-patch16-224', { vision_config: TINY_TOWER, text_config: TINY_TEXT }, 4],
    ['clip-vit-base-patch16', { vision_config_dict: TINY_TOWER, text_config_dict: { ...TINY_TEXT, max_position_embeddings: 8 } }, 4], // the *_dict entries win, as in CLIPConfig
  ])('%s: the vision tower loads from the full model folder (text tower skipped) and encodes an image', async (name, overrides, tokens) => {
    const dir = join(tmp('vision'), name);
    await writeHfStandin(name, dir, { overrides });
    const preprocessor = JSON.parse(readFileSync(join(dir, 'preprocessor_config.json'), 'utf8'));
    expect(preprocessor.resample).toBe(3);
    const vit = loadHfVisionEncoder(dir);
    try {
      expect(vit.config.imageSize).toBe(32);
      const pixels = tf.randomUniform([1, 32, 32, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
      const features = vit.encode(pixels); // CLIP's CLS dropped, as LLaVA selects patch tokens
      expect(features.shape).toEqual([1, tokens, 32]);
      expect(features.dataSync().every(Number.isFinite)).toBe(true);
      tf.dispose([pixels, features]);
    } finally {
      vit.dispose();
    }
  });

  it('refuses a folder that has files unless forced, and is deterministic per seed', async () => {
    const dir = tmp('force');
    writeFileSync(join(dir, 'keep.txt'), 'mine');
    await expect(writeHfStandin('smollm2-135m', dir, { overrides: TINY_LLAMA })).rejects.toThrow(MllmError);
    await expect(writeHfStandin('smollm2-135m', dir, { overrides: TINY_LLAMA })).rejects.toThrow(/already has files; choose an empty folder or pass --force/);
    await writeHfStandin('smollm2-135m', dir, { overrides: TINY_LLAMA, force: true, seed: 5 });
    const again = join(tmp('seed'), 'again');
    await writeHfStandin('smollm2-135m', again, { overrides: TINY_LLAMA, seed: 5 });
    expect(readFileSync(join(dir, 'model.safetensors')).equals(readFileSync(join(again, 'model.safetensors')))).toBe(true);
  });

  it('rounds to bfloat16 to nearest even', () => {
    expect(toBf16Bits(1)).toBe(0x3f80);
    expect(toBf16Bits(-2)).toBe(0xc000);
    expect(toBf16Bits(1 + 2 ** -8)).toBe(0x3f80); // halfway, the even neighbour
    expect(toBf16Bits(1 + 3 * 2 ** -8)).toBe(0x3f82); // halfway, rounds up to even
  });
});
