import { describe, it, expect, beforeAll, vi } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, Rng, silentLogger } from '@mllm/core';
import { BadSampleError, generateScene, imageToPngBuffer, renderScene } from '@mllm/data';
import { main } from './main';
import { createRegistry, loadConfig, run as runPipeline } from '@mllm/run';
import { fileURLToPath } from 'node:url';
import { parseRunConfig } from '@mllm/training';

const tiny = JSON.parse(readFileSync(new URL('../../../configs/tiny.json', import.meta.url), 'utf8'));
const fresh = () => join(mkdtempSync(join(tmpdir(), 'mllm-mix-')), 'run');

let dir: string;
/** A LLaVA JSONL of rendered PNGs with words the Shapes world never uses, and one malformed line (line 3). */
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mllm-llava-run-'));
  mkdirSync(join(dir, 'img'));
  const rng = new Rng(4);
  const lines: string[] = [];
  for (let i = 0; i < 4; i++) {
    writeFileSync(join(dir, 'img', `${i}.png`), await imageToPngBuffer(renderScene(generateScene(rng, `x${i}`), { imageSize: 24 }), 24));
    lines.push(JSON.stringify({ id: i, image: `${i}.png`, conversations: [{ from: 'human', value: '<image>\nIs this a zebra?' }, { from: 'gpt', value: 'No, it is a drawing of shapes.' }] }));
    if (i === 1) lines.push('{"id": "broken", "image": ');
  }
  writeFileSync(join(dir, 'train.jsonl'), `${lines.join('\n')}\n`);
});

const mixed = (file: string) => ({
  ...tiny,
  stages: tiny.stages.map((s: { type: string }) =>
    s.type === 'instruct'
      ? { ...s, chainOfThought: 0.3, data: [{ source: 'shapes', weight: 1 }, { source: 'text', weight: 0.5 }, { source: 'llava', file, images: join(dir, 'img'), weight: 1 }] }
      : s,
  ),
});

describe('mllm run with a data mixture and chain-of-thought', () => {
  it('a missing data file is a config error naming its path, before the run folder exists', async () => {
    const out = fresh();
    const err = await runPipeline(mixed(join(dir, 'nope.jsonl')), { out, logger: silentLogger }).catch((e) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).issues).toEqual([{ path: 'stages[3].data[2].file', message: expect.stringContaining('nope.jsonl does not exist') }]);
    expect(existsSync(out)).toBe(false);
  });

  it('a malformed record stops the run under "fail" naming file and line; nothing is written', async () => {
    const out = fresh();
    const err = await runPipeline(mixed(join(dir, 'train.jsonl')), { out, logger: silentLogger }).catch((e) => e);
    expect(err).toBeInstanceOf(BadSampleError);
    expect((err as Error).message).toMatch(/train\.jsonl:3: /);
    expect(existsSync(out)).toBe(false);
  });

  it('with --on-bad-sample skip it trains on the mixture, counts the skipped record and evaluates with and without reasoning', async () => {
    const out = fresh();
    const report = await runPipeline(mixed(join(dir, 'train.jsonl')), { out, logger: silentLogger, onBadSample: 'skip' });
    const json = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    const skipped = json.data.skipped[join(dir, 'train.jsonl')];
    expect(skipped.count).toBe(1);
    expect(skipped.reasons[0]).toMatch(/train\.jsonl:3: /);
    expect(Object.keys(report.stages[3]!.heldOut!)).toEqual(['loss shapes', 'loss text']); // no valFile: the LLaVA source is not validated
    const r = json.eval.reasoning;
    expect(r.direct.n).toBeGreaterThan(0);
    expect(r.chain.n).toBe(r.direct.n);
    expect(r.inconsistent).toBeGreaterThanOrEqual(0);
    expect(r.inconsistent).toBeLessThanOrEqual(1);
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toContain('## With and without reasoning');
    // the tokenizer learnt the file's words and the reasoning prompt
    const vocab = JSON.parse(readFileSync(join(out, 'tokenizer.json'), 'utf8')).model.vocab;
    for (const w of ['zebra', 'drawing', 'think', 'step']) expect(vocab).toHaveProperty(w);
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).stages[3].data[2].onBadSample).toBe('skip');
  });

  it('mllm run --on-bad-sample takes skip or fail only', async () => {
    const err: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((s) => (err.push(String(s)), true));
    const code = await main(['run', 'configs/tiny.json', '--on-bad-sample', 'maybe', '--out', fresh()]);
    vi.restoreAllMocks();
    expect(code).toBe(2);
    expect(err.join('')).toMatch(/--on-bad-sample must be skip or fail, got maybe/);
  });

  it('configs/cot.json is the default run with the cells objective trained longer, a 3-layer LLM, chains in instruct, no dpo, room for chains, and nothing else changed', async () => {
    const read = async (name: string) => parseRunConfig(await loadConfig(fileURLToPath(new URL(`../../../configs/${name}.json`, import.meta.url))), createRegistry());
    const [cot, base] = [await read('cot'), await read('default')];
    const instruct = cot.stages.findIndex((s) => s.type === 'instruct');
    expect(cot.stages[0]).toMatchObject({ type: 'pretrain-encoder', objectives: ['regions', 'cells'], steps: 1500 });
    expect(cot.llm).toMatchObject({ layers: 3 });
    expect(cot.stages[instruct]).toMatchObject({ chainOfThought: { share: 0.5, style: 'single', length: 'fixed', carry: 'running', infilling: 0 } });
    expect(cot.eval.maxNewTokens).toBe(100);
    const undo = cot.stages.map((s, i) => (i === 0 ? { ...s, objectives: ['regions'], steps: base.stages[0]!.steps } : i === instruct ? { ...s, chainOfThought: base.stages[instruct]!.type === 'instruct' ? base.stages[instruct].chainOfThought : undefined } : s));
    expect({ ...cot, description: '', llm: { ...cot.llm, layers: base.llm.layers }, eval: { ...cot.eval, maxNewTokens: base.eval.maxNewTokens }, stages: undo }).toEqual({ ...base, description: '', stages: base.stages.filter((s) => s.type !== 'dpo') });
  });
});
