import { describe, it, expect } from 'vitest';
import { main } from './main';
import { capture } from './capture-output.test-helper';
import { generationOptionsFromFlags } from './generation-flags';

describe('mllm chat generation flags', () => {
  it('turn into generate options; sampling gets seed 0 unless --seed says otherwise', () => {
    expect(generationOptionsFromFlags({}, { maxNewTokens: 40 })).toEqual({ maxNewTokens: 40 });
    expect(
      generationOptionsFromFlags(
        { temperature: '0.7', 'top-k': '5', 'top-p': '0.9', 'repetition-penalty': '1.2', 'max-new-tokens': '8', stop: ['.', '?'] },
        { maxNewTokens: 40 },
      ),
    ).toEqual({ maxNewTokens: 8, temperature: 0.7, topK: 5, topP: 0.9, repetitionPenalty: 1.2, seed: 0, stopStrings: ['.', '?'] });
    expect(generationOptionsFromFlags({ temperature: '1', seed: '7' }, { maxNewTokens: 4 }).seed).toBe(7);
  });

  it('--vcd and --pai turn into the in-process mitigation options', () => {
    expect(generationOptionsFromFlags({ vcd: '1', 'vcd-beta': '0.2', 'vcd-noise-step': '300', pai: '0.5', 'pai-from-layer': '1' }, { maxNewTokens: 40 })).toEqual({
      maxNewTokens: 40,
      contrastive: { alpha: 1, beta: 0.2 },
      imageAttention: { alpha: 0.5, fromLayer: 1 },
      imageNoise: { noiseStep: 300 },
    });
    expect(generationOptionsFromFlags({ vcd: '1' }, { maxNewTokens: 40 })).toEqual({ maxNewTokens: 40, contrastive: { alpha: 1 } });
  });

  it.each([
    [{ 'top-p': '1.5', temperature: '1' }, /--top-p: must be in \(0, 1\]/],
    [{ 'top-k': '3' }, /--top-k: only applies when sampling; set --temperature > 0/],
    [{ 'repetition-penalty': '0' }, /--repetition-penalty: must be > 0/],
    [{ temperature: 'hot' }, /--temperature must be a number, got "hot"/],
    [{ 'max-new-tokens': '0' }, /--max-new-tokens: must be an integer >= 1/],
    [{ seed: '1.5', temperature: '1' }, /--seed: must be an integer/],
    [{ stop: [''] }, /--stop\[0\]: a stop string must not be empty/],
    [{ vcd: '-1' }, /--vcd: must be >= 0/],
    [{ vcd: '1', 'vcd-beta': '0' }, /--vcd-beta: must be in \(0, 1\]/],
    [{ 'vcd-beta': '0.5' }, /--vcd-beta applies to --vcd; add --vcd <alpha>/],
    [{ vcd: '1', 'vcd-noise-step': '1000' }, /--vcd-noise-step must be a whole diffusion step from 0 to 999/],
    [{ pai: 'lots' }, /--pai must be a number, got "lots"/],
    [{ pai: '1', 'pai-from-layer': '1.5' }, /--pai-from-layer: /],
    [{ 'pai-from-layer': '1' }, /--pai-from-layer applies to --pai/],
  ])('%j is refused naming the flag', (flags, message) => {
    expect(() => generationOptionsFromFlags(flags, { maxNewTokens: 40 })).toThrow(message);
  });

  it('mllm chat refuses bad flags before opening the checkpoint', async () => {
    const c = capture();
    const code = await main(['chat', '--checkpoint', '/nonexistent', '--image', 'x.png', '--prompt', 'hi', '--top-p', '0', '--temperature', '1']);
    c.restore();
    expect(code).toBe(2);
    expect(c.err.join('')).toMatch(/invalid generation flags:\n {2}- --top-p: must be in \(0, 1\]/);
  });
});
