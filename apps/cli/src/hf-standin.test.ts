import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { STANDIN_MODELS } from '@mllm/run';
import { mllmInProcess as mllm } from './capture-output.test-helper';

describe('mllm hf-standin', () => {
  it('--list names every stand-in with the repository it copies', async () => {
    const { code, out, err } = await mllm(['hf-standin', '--list']);
    expect(code).toBe(0);
    expect(err).toBe('');
    expect(out.trim().split('\n')).toHaveLength(STANDIN_MODELS.length);
    expect(out).toMatch(/^smollm2-135m-instruct +HuggingFaceTB\/SmolLM2-135M-Instruct: LlamaForCausalLM, 30 layers x 576, 9 heads \/ 3 KV heads/m);
    expect(out).toMatch(/^siglip-base-patch16-224 +google\/siglip-base-patch16-224: /m);
  });

  it.each([
    [['hf-standin'], /needs a checkpoint name and --out DIR, e\.g\. mllm hf-standin smollm2-135m-instruct --out models\/smollm2-135m-instruct/],
    [['hf-standin', 'clip-vit-base-patch16'], /needs --out DIR: mllm hf-standin clip-vit-base-patch16 --out models\/clip-vit-base-patch16/],
    [['hf-standin', 'llama-7b', '--out', 'x'], /no stand-in named "llama-7b"; one of: smollm2-135m, .*\(mllm hf-standin --list\)/],
    [['hf-standin', 'smollm2-135m', '--out', 'x', '--dtype', 'fp8'], /--dtype must be bf16 or f32, got fp8/],
    [['hf-standin', 'smollm2-135m', '--out', 'x', '--max-shard-mb', '0'], /--max-shard-mb must be an integer >= 1, got 0/],
  ])('%j is refused with what to write instead, nothing written', async (args, message) => {
    const { code, out, err } = await mllm(args);
    expect(code).toBe(2);
    expect(out).toBe('');
    expect(err).toMatch(message);
  });

  it('refuses a folder that already has files unless --force', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-standin-'));
    writeFileSync(join(dir, 'notes.txt'), 'mine');
    const { code, err } = await mllm(['hf-standin', 'smollm2-135m', '--out', dir]);
    expect(code).toBe(2);
    expect(err).toMatch(/already has files; choose an empty folder or pass --force/);
  });
});
