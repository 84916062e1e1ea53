import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadHfFolder, silentLogger } from '@mllm/core';
import { HfTokenizer } from '@mllm/tokenizer';
import { loadHfVisionEncoder } from '@mllm/encoders';
import { writeTinyHfClip } from './hf-vision-folder.test-helper';
import { run } from './run';
import { openRun } from './open-run';
import { writeTinyHfCausalLm } from '../../../packages/llm/src/hf-reference.test-helper';
import { tinyHfTokenizerFiles } from '../../../packages/tokenizer/src/hf-tokenizer.test-helper';

const tiny = JSON.parse(readFileSync(new URL('../../../configs/tiny.json', import.meta.url), 'utf8'));

/** A tiny random HF Llama folder with a Llama-2-style tokenizer whose vocabulary it matches exactly. */
async function tinyLlamaFolder(): Promise<string> {
  const dir = join(mkdtempSync(join(tmpdir(), 'hf-run-')), 'tiny-llama');
  const tokenizer = tinyHfTokenizerFiles();
  await writeTinyHfCausalLm(dir, { config: { vocab_size: tokenizer.vocabSize }, tie: true });
  writeFileSync(join(dir, 'tokenizer.json'), tokenizer['tokenizer.json']);
  writeFileSync(join(dir, 'tokenizer_config.json'), tokenizer['tokenizer_config.json']);
  return dir;
}

describe('a run that starts from an HF LLM', () => {
  it('trains only the connector (align) between an HF CLIP and an HF Llama: the loss falls, both stay the checkpoints\'', async () => {
    const llmDir = await tinyLlamaFolder();
    const clipDir = join(mkdtempSync(join(tmpdir(), 'hf-run-')), 'tiny-clip');
    await writeTinyHfClip(clipDir);
    const out = join(mkdtempSync(join(tmpdir(), 'hf-run-out-')), 'run');
    const config = {
      ...tiny,
      encoder: { type: 'vit', from: `hf:${clipDir}` },
      llm: { type: 'causal', from: `hf:${llmDir}`, layers: 2 },
      data: { train: 40, val: 8, test: 8 },
      stages: [{ type: 'align', steps: 12, batchSize: 8, lr: 0.01, evalEvery: 100, checkpointEvery: 100 }],
      eval: { scenes: 2, popePerImage: 2, batchSize: 8, maxNewTokens: 4 },
    };
    await run(config, { out, logger: silentLogger });
    const losses = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { loss?: number }).filter((m) => m.loss !== undefined).map((m) => m.loss!);
    expect(losses.length).toBe(12);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(losses.slice(-3))).toBeLessThan(mean(losses.slice(0, 3)) - 0.1);

    const session = await openRun(out);
    expect(session.tokenizer).toBeInstanceOf(HfTokenizer);
    const vocab = tinyHfTokenizerFiles().vocabSize;
    expect(session.model.llm.vocabSize).toBe(vocab + 1); // <image> added past the checkpoint's vocabulary
    const hf = await loadHfFolder(llmDir);
    const llm = session.model.llm.stateDict();
    for (const [name, t] of Object.entries(hf.tensors)) {
      const ours = llm[name]!;
      const rows = name === 'model.embed_tokens.weight' ? ours.slice([0, 0], [vocab, -1]) : ours;
      expect(Array.from(rows.dataSync()), name).toEqual(Array.from(t.dataSync()));
    }
    const clip = loadHfVisionEncoder(clipDir).stateDict();
    for (const [name, p] of Object.entries(session.model.encoder.stateDict())) expect(Array.from(p.dataSync()), name).toEqual(Array.from(clip[name]!.dataSync()));
  });

  it('refuses run-config fields that disagree with the checkpoint, naming both values, before creating the run folder', async () => {
    const llmDir = await tinyLlamaFolder();
    const out = join(mkdtempSync(join(tmpdir(), 'hf-run-out-')), 'run');
    const err = await run({ ...tiny, llm: { type: 'causal', from: `hf:${llmDir}`, dim: 64 } }, { out, logger: silentLogger }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/llm\.dim: is 64 but the HF checkpoint has 32/);
    const missing = await run({ ...tiny, llm: { type: 'causal', from: 'hf:/nowhere/at/all' } }, { out, logger: silentLogger }).catch((e: Error) => e);
    expect((missing as Error).message).toMatch(/\/nowhere\/at\/all\/config\.json: not found; llm\.from "hf:\/nowhere\/at\/all" must name a HuggingFace model folder/);
    const notHf = await run({ ...tiny, llm: { type: 'causal', from: llmDir } }, { out, logger: silentLogger }).catch((e: Error) => e);
    expect((notHf as Error).message).toMatch(/llm\.from: .*write "hf:path\/to\/folder"/);
    expect(existsSync(out)).toBe(false);
  });
});
