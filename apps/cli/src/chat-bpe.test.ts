import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '@mllm/core';
import { imageToPngBuffer, renderScene } from '@mllm/data';
import { BpeTokenizer, HfTokenizer, loadTokenizer } from '@mllm/tokenizer';
import { openRun, run as runPipeline } from '@mllm/run';
import { capture, mllmInProcess } from './capture-output.test-helper';
import { main } from './main';

const tiny = JSON.parse(readFileSync(new URL('../../../configs/tiny.json', import.meta.url), 'utf8'));
const config = { ...tiny, tokenizer: { type: 'bpe', vocabSize: 400 }, stages: [{ type: 'instruct', steps: 2, batchSize: 8, checkpointEvery: 0, evalEvery: 0 }] };
/** Words the Shapes corpus never has, in capitals, with unicode. */
const UNSEEN = 'How many ZEBRAS are in the picture? 🦓';
const MAX = ['--max-new-tokens', '6'];

describe('mllm chat on a run with the byte-level BPE tokenizer', () => {
  const root = mkdtempSync(join(tmpdir(), 'mllm-chat-bpe-'));
  const dir = join(root, 'run');
  const png = join(root, 'scene.png');
  beforeAll(async () => {
    await runPipeline(config, { out: dir, logger: silentLogger });
    const opened = await openRun(dir);
    writeFileSync(png, await imageToPngBuffer(renderScene(opened.world.scenes('test')[0]!, { imageSize: 16 }), 16));
    opened.dispose();
  });

  it('reopens the run with its BPE tokenizer and answers a prompt of unseen words without a warning', async () => {
    expect(await loadTokenizer(dir)).toBeInstanceOf(BpeTokenizer);
    const opened = await openRun(dir);
    expect(opened.unknownWords(UNSEEN)).toEqual([]);
    expect(opened.tokenizer.encode(UNSEEN)).not.toContain(opened.tokenizer.special.unk);
    const answer = await opened.answer(png, UNSEEN, { maxNewTokens: 6 });
    expect(answer).not.toBe('');
    opened.dispose();
    const chat = await mllmInProcess(['chat', '--checkpoint', dir, '--image', png, '--prompt', UNSEEN, ...MAX]);
    expect(chat).toEqual({ code: 0, out: `${answer}\n`, err: '' });
  });

  it('exports to ONNX, where chat gives the tfjs answer, and to HF, whose tokenizer HfTokenizer reads with the same ids', async () => {
    const onnx = join(root, 'onnx');
    const hf = join(root, 'hf');
    const c = capture();
    try {
      expect(await main(['export', '--checkpoint', dir, '--out', onnx])).toBe(0);
      expect(await main(['export', '--checkpoint', dir, '--out', hf, '--format', 'hf'])).toBe(0);
    } finally {
      c.restore();
    }
    const tfjs = await mllmInProcess(['chat', '--checkpoint', dir, '--image', png, '--prompt', UNSEEN, ...MAX]);
    const ort = await mllmInProcess(['chat', '--runtime', 'onnx', '--model', onnx, '--image', png, '--prompt', UNSEEN, ...MAX]);
    expect(ort).toMatchObject({ code: 0, err: '' });
    expect(ort.out).toBe(tfjs.out);
    const ours = await loadTokenizer(dir);
    const theirs = await HfTokenizer.load(hf);
    expect(theirs.vocabSize).toBe(ours.vocabSize);
    expect(theirs.encode(`<image>\n${UNSEEN}`)).toEqual(ours.encode(`<image>\n${UNSEEN}`));
    expect(JSON.parse(readFileSync(join(hf, 'chat_template.json'), 'utf8')).chat_template).toContain("{{ '<|user|>' }}");
  });
});
