import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from './main';
import { capture } from './capture-output.test-helper';
import { hfCausalLmReference, toFloat64, writeTinyHfCausalLm, type ReferenceConfig } from '../../../packages/llm/src/hf-reference.test-helper';
import { loadHfFolder } from '@mllm/core';
import { writeTinyHfClip } from '../../../packages/run/src/hf-vision-folder.test-helper';

describe('mllm forward --hf', () => {
  it('writes the logits of a tiny HF Llama as [batch][seq][vocab] plain numbers, matching the float64 reference', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mllm-forward-'));
    const model = join(dir, 'tiny-llama');
    await writeTinyHfCausalLm(model, { shards: 2 });
    const ids = [
      [3, 14, 15, 9, 2],
      [6, 5, 3, 5, 8],
    ];
    writeFileSync(join(dir, 'in.json'), JSON.stringify({ inputIds: ids }));
    const c = capture();
    const code = await main(['forward', '--hf', model, '--input', join(dir, 'in.json'), '--output', join(dir, 'out.json')]);
    c.restore();
    expect(c.err.join('')).toBe('');
    expect(code).toBe(0);
    expect(c.out.join('')).toMatch(/causal-lm forward: logits \[2, 5, 50\] written to/);
    const { logits } = JSON.parse(readFileSync(join(dir, 'out.json'), 'utf8')) as { logits: number[][][] };
    expect([logits.length, logits[0]!.length, logits[0]![0]!.length]).toEqual([2, 5, 50]);
    const folder = await loadHfFolder(model);
    const want = hfCausalLmReference(folder.config as unknown as ReferenceConfig, toFloat64(folder.tensors), ids);
    const gap = Math.max(...want.flatMap((row, b) => row.flatMap((l, t) => l.map((v, i) => Math.abs(v - logits[b]![t]![i]!)))));
    expect(gap).toBeLessThan(1e-4);
  });

  it('dispatches a CLIP vision tower by model_type and writes every hidden state, embeddings first', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mllm-forward-'));
    const model = join(dir, 'tiny-clip');
    await writeTinyHfClip(model);
    const pixel = (i: number) => Math.sin(i) * 0.5;
    let i = 0;
    const pixelValues = [Array.from({ length: 3 }, () => Array.from({ length: 16 }, () => Array.from({ length: 16 }, () => pixel(i++))))];
    writeFileSync(join(dir, 'in.json'), JSON.stringify({ pixelValues }));
    const c = capture();
    const code = await main(['forward', '--hf', model, '--input', join(dir, 'in.json'), '--output', join(dir, 'out.json')]);
    c.restore();
    expect(c.err.join('')).toBe('');
    expect(code).toBe(0);
    expect(c.out.join('')).toMatch(/vision forward: last hidden state \[1, 5, 16\]/);
    const out = JSON.parse(readFileSync(join(dir, 'out.json'), 'utf8')) as { lastHiddenState: number[][][]; hiddenStates: number[][][][]; poolerOutput: number[][] };
    expect(out.hiddenStates).toHaveLength(3); // embeddings + 2 layers
    expect(out.hiddenStates[2]![0]![0]).toHaveLength(16);
    expect(out.poolerOutput[0]).toHaveLength(16);
  });

  it('explains bad input and writes nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mllm-forward-'));
    const model = join(dir, 'tiny-llama');
    await writeTinyHfCausalLm(model);
    writeFileSync(join(dir, 'ragged.json'), JSON.stringify({ inputIds: [[1, 2], [3]] }));
    writeFileSync(join(dir, 'range.json'), JSON.stringify({ inputIds: [[1, 50]] }));
    const out = join(dir, 'out.json');
    const c = capture();
    expect(await main(['forward', '--hf', model, '--input', join(dir, 'ragged.json'), '--output', out])).toBe(2);
    expect(await main(['forward', '--hf', model, '--input', join(dir, 'range.json'), '--output', out])).toBe(2);
    expect(await main(['forward', '--hf', join(dir, 'nope'), '--input', join(dir, 'range.json'), '--output', out])).toBe(2);
    expect(await main(['forward', '--hf', model])).toBe(2);
    c.restore();
    const err = c.err.join('');
    expect(err).toMatch(/every row the same length/);
    expect(err).toMatch(/token id 50 is outside the vocabulary \[0, 50\)/);
    expect(err).toMatch(/nope\/config\.json: not found; --hf takes a HuggingFace model folder/);
    expect(err).toMatch(/mllm forward needs --hf DIR --input IN.json --output OUT.json/);
    expect(existsSync(out)).toBe(false);
  });
});
