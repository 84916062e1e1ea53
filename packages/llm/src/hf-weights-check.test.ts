import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { CheckpointError } from '@mllm/core';
import { writeTinyHfCausalLm, type TinyHfOptions } from './hf-reference.test-helper';
import { hfCausalSource } from './hf-source';

async function folder(options: TinyHfOptions = {}): Promise<string> {
  const dir = join(mkdtempSync(join(tmpdir(), 'hf-check-')), 'llm');
  await writeTinyHfCausalLm(dir, options);
  return dir;
}

/** Rewrites config.json with `fields` changed, the weights left as they are. */
function editConfig(dir: string, fields: Record<string, unknown>): void {
  const path = join(dir, 'config.json');
  writeFileSync(path, JSON.stringify({ ...JSON.parse(readFileSync(path, 'utf8')), ...fields }));
}

const resolve = (dir: string) => hfCausalSource({ type: 'causal', from: `hf:${dir}` }, 'llm');

describe('an HF folder whose config.json is not its weights', () => {
  it('resolves folders whose weights match: untied, tied without lm_head, Mixtral experts, sharded, with RoPE buffers', async () => {
    for (const options of [{}, { tie: true }, { experts: 3 }, { shards: 2 }, { invFreqBuffers: true }] as TinyHfOptions[]) {
      const source = await resolve(await folder(options));
      expect(source.config.type).toBe('causal');
    }
  });

  it('is refused from the headers before any model is built: a 7B config over tiny weights, hidden_size 1e9, a layer more', async () => {
    const llama7b = { hidden_size: 4096, intermediate_size: 11008, num_hidden_layers: 32, num_attention_heads: 32, num_key_value_heads: 32, vocab_size: 32000 };
    const cases: [Record<string, unknown>, RegExp][] = [
      [llama7b, /describes a model of 6\.74e\+9 parameters \(hidden_size 4096, 32 layers, vocab_size 32000\) but the weights \(model\.safetensors\) hold \d+: model\.embed_tokens\.weight \[\d+, \d+\], 2 layer\(s\)/],
      [{ hidden_size: 1e9, num_attention_heads: 2, num_key_value_heads: 2 }, /describes a model of .*e\+\d+ parameters \(hidden_size 1000000000/],
      [{ num_hidden_layers: 3 }, /3 layers.*2 layer\(s\)/],
    ];
    for (const [fields, message] of cases) {
      const dir = await folder();
      editConfig(dir, fields);
      const tensorsBefore = tf.memory().numTensors;
      const error = await resolve(dir).catch((e: unknown) => e);
      expect(tf.memory().numTensors).toBe(tensorsBefore); // nothing allocated
      expect(error).toBeInstanceOf(CheckpointError);
      expect((error as Error).message).toContain(join(dir, 'config.json'));
      expect((error as Error).message).toMatch(message);
    }
  });

  it('is refused when a weight file is tampered with (bytes appended), naming the file', async () => {
    const dir = await folder();
    const weights = join(dir, 'model.safetensors');
    writeFileSync(weights, Buffer.concat([readFileSync(weights), Buffer.alloc(16)]));
    await expect(resolve(dir)).rejects.toThrow(/model\.safetensors: 16 bytes follow the last tensor/);
  });
});
