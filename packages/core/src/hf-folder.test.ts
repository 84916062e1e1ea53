import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadHfFolder, parseHfSpec, saveHfFolder } from './hf-folder';
import { saveSafetensors } from './safetensors';

const config = { architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_size: 4 };
const weights = () => ({
  'model.embed_tokens.weight': tf.tensor2d([[0.5, -1.25, 2, 3], [1, 2, 3, 4]]),
  'model.norm.weight': tf.tensor1d([1, 0.75, 1, 1]),
  'lm_head.weight': tf.tensor2d([[1, 0, 0, 0], [0, 1, 0, 0]]),
});
const tmp = () => mkdtempSync(join(tmpdir(), 'hf-'));

describe('loadHfFolder', () => {
  it('reads config.json and model.safetensors', async () => {
    const dir = tmp();
    await saveHfFolder(dir, config, weights());
    const hf = await loadHfFolder(dir);
    expect(hf.config).toEqual(config);
    expect(hf.files).toEqual([join(dir, 'model.safetensors')]);
    expect(Object.keys(hf.tensors).sort()).toEqual(['lm_head.weight', 'model.embed_tokens.weight', 'model.norm.weight']);
    expect(Array.from(hf.tensors['model.embed_tokens.weight']!.dataSync())).toEqual([0.5, -1.25, 2, 3, 1, 2, 3, 4]);
  });

  it('reads the shards named by model.safetensors.index.json, widening F16 and BF16 to float32', async () => {
    for (const floatDtype of ['F16', 'BF16'] as const) {
      const dir = tmp();
      await saveHfFolder(dir, config, weights(), { shards: 2, floatDtype });
      expect(readdirSync(dir).sort()).toEqual(['config.json', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors', 'model.safetensors.index.json']);
      const hf = await loadHfFolder(dir);
      expect(hf.files).toHaveLength(2);
      expect(hf.tensors['model.norm.weight']!.dtype).toBe('float32');
      // every value here is exact in both half formats
      expect(Array.from(hf.tensors['model.embed_tokens.weight']!.dataSync())).toEqual([0.5, -1.25, 2, 3, 1, 2, 3, 4]);
      expect(Array.from(hf.tensors['model.norm.weight']!.dataSync())).toEqual([1, 0.75, 1, 1]);
    }
  });

  it('rounds to nearest when writing halves', async () => {
    const dir = tmp();
    await saveHfFolder(dir, config, { x: tf.tensor1d([1 / 3, 65504, 1e6, -1e-8]) }, { floatDtype: 'F16' });
    const x = Array.from((await loadHfFolder(dir)).tensors.x!.dataSync());
    expect(x[0]).toBeCloseTo(1 / 3, 3);
    expect(x.slice(1)).toEqual([65504, Infinity, -0]);
  });

  it('names what is missing: config, weights, a shard, a tensor the index places in a shard', async () => {
    const empty = tmp();
    await expect(loadHfFolder(join(empty, 'nope'))).rejects.toThrow(/is not a folder/);
    await expect(loadHfFolder(empty)).rejects.toThrow(/config\.json is missing/);
    writeFileSync(join(empty, 'config.json'), '{"model_type": ');
    await expect(loadHfFolder(empty)).rejects.toThrow(/config\.json: is not valid JSON/);
    writeFileSync(join(empty, 'config.json'), JSON.stringify(config));
    await expect(loadHfFolder(empty)).rejects.toThrow(/neither model\.safetensors nor model\.safetensors\.index\.json/);
    writeFileSync(join(empty, 'pytorch_model.bin'), 'x');
    await expect(loadHfFolder(empty)).rejects.toThrow(/only PyTorch \.bin weights; convert them/);

    const sharded = tmp();
    await saveHfFolder(sharded, config, weights(), { shards: 2 });
    rmSync(join(sharded, 'model-00002-of-00002.safetensors'));
    await expect(loadHfFolder(sharded)).rejects.toThrow(/model-00002-of-00002\.safetensors: shard listed in model\.safetensors\.index\.json \(for model\.embed_tokens\.weight\) is missing/);

    const incomplete = tmp();
    await saveHfFolder(incomplete, config, weights(), { shards: 2 });
    await saveSafetensors(join(incomplete, 'model-00002-of-00002.safetensors'), { other: tf.tensor1d([1]) });
    await expect(loadHfFolder(incomplete)).rejects.toThrow(/lacks 1 tensor\(s\) that model\.safetensors\.index\.json places there: model\.embed_tokens\.weight/);

    const escaping = tmp();
    await saveHfFolder(escaping, config, weights(), { shards: 2 });
    const indexPath = join(escaping, 'model.safetensors.index.json');
    const index = JSON.parse(readFileSync(indexPath, 'utf8'));
    index.weight_map['lm_head.weight'] = '../elsewhere.safetensors';
    writeFileSync(indexPath, JSON.stringify(index));
    await expect(loadHfFolder(escaping)).rejects.toThrow(/must be a file name in the same folder/);
  });
});

describe('parseHfSpec', () => {
  it('strips the hf: prefix and refuses anything else', () => {
    expect(parseHfSpec('hf:models/tiny-llama')).toBe('models/tiny-llama');
    expect(() => parseHfSpec('models/tiny-llama')).toThrow(/write "hf:path\/to\/folder"/);
    expect(() => parseHfSpec('hf:')).toThrow(/not a HuggingFace source/);
  });
});
