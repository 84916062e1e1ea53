import { describe, it, expect, beforeAll, vi } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import * as tf from '@tensorflow/tfjs';
import { saveSafetensors, silentLogger } from '@mllm/core';
import { imageToPngBuffer, renderScene } from '@mllm/data';
import type { ChatTurn } from '@mllm/tokenizer';
import { main } from './main';
import { capture, mllmInProcess } from './capture-output.test-helper';
import { writeImageCases } from '../../../packages/run/src/image-files.test-helper';

// every model load of the chat command goes through openRun: count them
const loads = vi.hoisted(() => ({ openRun: 0 }));
vi.mock('@mllm/run', async (importOriginal) => {
  const run = await importOriginal<typeof import('@mllm/run')>();
  return { ...run, openRun: (...args: Parameters<typeof run.openRun>) => (loads.openRun++, run.openRun(...args)) };
});
const { openRun, openPostCorrector, run: runPipeline } = await import('@mllm/run');
const { correctionText } = await import('./correction-output');

const tiny = JSON.parse(readFileSync(new URL('../../../configs/tiny.json', import.meta.url), 'utf8'));
const config = { ...tiny, stages: [{ type: 'instruct', steps: 2, batchSize: 8, checkpointEvery: 0, evalEvery: 0 }] };
const Q1 = 'what color is the circle ?';
const Q2 = 'how many objects are there ?';
const MAX = ['--max-new-tokens', '6'];

/** Runs `mllm chat` without --prompt on `lines` of input; returns the exit code and the transcript. */
async function session(args: string[], lines: string[]): Promise<{ code: number; transcript: string; err: string }> {
  const output = new PassThrough();
  const chunks: string[] = [];
  output.on('data', (d: Buffer) => chunks.push(d.toString()));
  const c = capture();
  try {
    const code = await main(['chat', ...args], { input: Readable.from(lines.map((l) => `${l}\n`)), output });
    return { code, transcript: chunks.join(''), err: c.err.join('') };
  } finally {
    c.restore();
  }
}

const once = mllmInProcess;

describe('mllm chat', () => {
  const root = mkdtempSync(join(tmpdir(), 'mllm-chat-'));
  const dir = join(root, 'run');
  const onnx = join(root, 'onnx');
  const png = join(root, 'scene.png');
  const other = join(root, 'other.png');
  beforeAll(async () => {
    await runPipeline(config, { out: dir, logger: silentLogger });
    // a few steps answer almost every prompt alike; redrawn weights make the answer depend on
    // every token of the prompt, so a turn answered without the earlier ones shows
    const opened = await openRun(dir);
    opened.model.namedParameters().forEach(([, p], i) => {
      if (p.shape.length >= 2) p.assign(tf.randomNormal(p.shape, 0, 0.5, 'float32', 200 + i));
    });
    await saveSafetensors(join(dir, 'model.safetensors'), opened.model.stateDict(), { format: 'pt' });
    const [a, b] = opened.world.scenes('test');
    writeFileSync(png, await imageToPngBuffer(renderScene(a!, { imageSize: 16 }), 16));
    writeFileSync(other, await imageToPngBuffer(renderScene(b!, { imageSize: 16 }), 16));
    opened.dispose();
    const c = capture();
    expect(await main(['export', '--checkpoint', dir, '--out', onnx])).toBe(0);
    c.restore();
  });

  it('without --prompt keeps one model loaded and answers each turn with the earlier turns in the chat template', async () => {
    const before = loads.openRun;
    const { code, transcript } = await session(['--checkpoint', dir, '--image', png, ...MAX], [Q1, Q2]);
    expect(code).toBe(0);
    expect(loads.openRun - before).toBe(1);
    // the same conversation through the library: turn 2 sees turn 1 and its answer
    const opened = await openRun(dir);
    const options = { maxNewTokens: 6 };
    const a1 = await opened.answer(png, Q1, options);
    const turns: ChatTurn[] = [{ from: 'human', value: Q1 }, { from: 'gpt', value: a1 }, { from: 'human', value: Q2 }];
    const a2 = await opened.answer(png, turns, options);
    const a2Alone = await opened.answer(png, Q2, options);
    opened.dispose();
    expect(a2).not.toBe(a2Alone); // the test can tell a session that forgets the first turn
    expect(transcript).toBe(`chatting about ${png}; /help lists the commands, /quit or Ctrl-D leaves\n> ${a1}\n> ${a2}\n> \n`);
  });

  it('--runtime onnx holds the same conversation from an export', async () => {
    const tfjs = await session(['--checkpoint', dir, '--image', png, ...MAX], [Q1, Q2]);
    const ort = await session(['--runtime', 'onnx', '--model', onnx, '--image', png, ...MAX], [Q1, Q2]);
    expect(ort.code).toBe(0);
    expect(ort.transcript).toBe(tfjs.transcript);
  });

  it('takes /image, /reset, /help and /quit; a bad /image or unknown command is reported and the session goes on', async () => {
    const { code, transcript } = await session(['--checkpoint', dir, '--image', png, ...MAX], [
      '/help',
      '/image',
      `/image ${join(root, 'nope.png')}`,
      '/colour',
      Q1,
      `/image ${other}`,
      Q2,
      '/reset',
      Q2,
      '/quit',
      Q1, // after /quit: never read
    ]);
    expect(code).toBe(0);
    const opened = await openRun(dir);
    const alone = await opened.answer(other, Q2, { maxNewTokens: 6 });
    opened.dispose();
    const lines = transcript.split('\n');
    expect(transcript).toContain('/image FILE   ask about another image');
    expect(transcript).toContain('error: /image needs a file, e.g. /image scene.png\n');
    expect(transcript).toContain(`error: ${join(root, 'nope.png')}: image file not found; check the path`);
    expect(transcript).toContain('error: unknown command /colour; /help lists the commands\n');
    expect(lines.filter((l) => l === `> new conversation about ${other}`)).toHaveLength(2); // after /image and after /reset
    // after /image the conversation starts again: Q2 about the new image is answered alone, twice
    expect(lines.filter((l) => l === `> ${alone}`).length).toBeGreaterThanOrEqual(2);
    expect(lines.at(-2)).toBe('> ');
  });

  it('with --prompt answers once; a prompt with words the vocabulary lacks gets a warning naming each one', async () => {
    const plain = await once(['chat', '--checkpoint', dir, '--image', png, '--prompt', Q1, ...MAX]);
    expect(plain).toMatchObject({ code: 0, err: '' });
    const odd = await once(['chat', '--checkpoint', dir, '--image', png, '--prompt', 'What is in this picture? this PICTURE', ...MAX]);
    expect(odd.code).toBe(0);
    expect(odd.err).toBe(
      'warning: the model\'s vocabulary lacks "this", "picture"; they are read as <unk>. Ask with the words it was trained on: a Shapes model knows lower-case questions such as "is there a red circle in the image ?" (mllm scene prints more)\n',
    );
    const { transcript } = await session(['--checkpoint', dir, '--image', png, ...MAX], ['is there a zebra ?']);
    expect(transcript).toContain('warning: the model\'s vocabulary lacks "zebra"; it is read as <unk>.');
    const opened = await openRun(dir);
    expect(opened.unknownWords('What is in this picture?')).toEqual(['this', 'picture']);
    opened.dispose();
  });

  it('--vcd and --pai at strength 0 answer exactly as without them; above 0 they answer too; onnx refuses them', async () => {
    const plain = await once(['chat', '--checkpoint', dir, '--image', png, '--prompt', Q1, ...MAX]);
    const off = await once(['chat', '--checkpoint', dir, '--image', png, '--prompt', Q1, ...MAX, '--vcd', '0', '--pai', '0']);
    expect(off).toEqual(plain);
    const on = await once(['chat', '--checkpoint', dir, '--image', png, '--prompt', Q1, ...MAX, '--vcd', '1', '--vcd-noise-step', '800', '--pai', '0.5']);
    expect(on).toMatchObject({ code: 0, err: '' });
    expect(on.out.trim().length).toBeGreaterThan(0);
    const refused = await once(['chat', '--runtime', 'onnx', '--model', onnx, '--image', png, '--prompt', Q1, '--vcd', '1']);
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(/--vcd and --pai .* chat with --checkpoint \(tfjs runtime\)/);
  });

  it('--correct follows the answer with its post-correction by the run detector (trained when the run saved none); onnx and --tools refuse it', async () => {
    const plain = await once(['chat', '--checkpoint', dir, '--image', png, '--prompt', Q2, ...MAX]);
    const checked = await once(['chat', '--checkpoint', dir, '--image', png, '--prompt', Q2, ...MAX, '--correct']);
    expect(checked.code).toBe(0);
    expect(checked.out.startsWith(plain.out)).toBe(true);
    expect(checked.err).toMatch(/has no tools-detector\.safetensors; training the region detector/);
    // what is printed is @mllm/run's post-corrector on the same answer, formatted
    const opened = await openRun(dir);
    const corrector = await openPostCorrector(opened);
    try {
      const expected = correctionText(await corrector.correct(await opened.loadImage(png), plain.out.slice(0, -1)));
      expect(checked.out.slice(plain.out.length)).toBe(expected);
      expect(expected).toMatch(/^corrected: /);
    } finally {
      corrector.dispose();
      opened.dispose();
    }
    const onnxRefused = await once(['chat', '--runtime', 'onnx', '--model', onnx, '--image', png, '--prompt', Q1, '--correct']);
    expect(onnxRefused.code).toBe(2);
    expect(onnxRefused.err).toMatch(/--correct asks the run's region detector.*--checkpoint DIR/);
    const toolsRefused = await once(['chat', '--checkpoint', dir, '--image', png, '--prompt', Q1, '--correct', '--tools']);
    expect(toolsRefused.code).toBe(2);
    expect(toolsRefused.err).toMatch(/choose one/);
  });

  it('--demo shows each demonstration, with its image, before the question, on both runtimes; a bad --demo is one line (exit 2)', async () => {
    const demo = `image=${other},q=${Q2},a=two`;
    const opened = await openRun(dir);
    const want = await opened.answer(png, Q1, { maxNewTokens: 6, demonstrations: [{ image: other, question: Q2, answer: 'two' }] });
    const without = await opened.answer(png, Q1, { maxNewTokens: 6 });
    opened.dispose();
    expect(want).not.toBe(without); // the demonstration reaches the prompt
    const tfjs = await once(['chat', '--checkpoint', dir, '--image', png, '--demo', demo, '--prompt', Q1, ...MAX]);
    expect(tfjs).toMatchObject({ code: 0, err: '' });
    expect(tfjs.out.trim()).toBe(want.trim());
    const ort = await once(['chat', '--runtime', 'onnx', '--model', onnx, '--image', png, '--demo', demo, '--prompt', Q1, ...MAX]);
    expect(ort.out.trim()).toBe(want.trim());
    const bad = await once(['chat', '--checkpoint', dir, '--image', png, '--demo', `image=${other},q=${Q2}`, '--prompt', Q1]);
    expect(bad.code).toBe(2);
    expect(bad.err.trimEnd().split('\n')).toEqual([expect.stringMatching(/--demo 1 .*missing a=; write image=FILE,q=QUESTION,a=ANSWER/)]);
  });

  it('a missing, folder, truncated, unreadable, BMP or over-large image is one line naming the file (exit 2, no stack), on both runtimes', async () => {
    const files = await writeImageCases(mkdtempSync(join(tmpdir(), 'mllm-chat-images-')));
    const reasons = {
      missing: 'image file not found',
      folder: 'is a folder, not an image file',
      truncated: 'cannot decode the image',
      cutHeader: 'unreadable image',
      bmp: 'not an image format that can be read',
      huge: 'image is 16000x16000 = 256000000 pixels, over the limit of 64000000',
    };
    for (const [kind, reason] of Object.entries(reasons)) {
      const path = files[kind as keyof typeof reasons];
      for (const model of [['--checkpoint', dir], ['--runtime', 'onnx', '--model', onnx]]) {
        const r = await once(['chat', ...model, '--image', path, '--prompt', Q1]);
        expect(r.code, `${kind} ${model[0]}`).toBe(2);
        expect(r.err.startsWith(`error: ${path}: ${reason}`), r.err).toBe(true);
        expect(r.err.trimEnd().split('\n'), r.err).toHaveLength(1);
      }
    }
    // a TIFF is read, as training data reads it
    const tiff = await once(['chat', '--checkpoint', dir, '--image', files.tiff, '--prompt', Q1, ...MAX]);
    expect(tiff.code).toBe(0);
  });

  it('eval --pai writes its scores beside eval.json, never over it; the onnx runtime refuses it', async () => {
    expect((await once(['eval', '--checkpoint', dir])).code).toBe(0);
    const plain = readFileSync(join(dir, 'eval.json'), 'utf8');
    const boosted = await once(['eval', '--checkpoint', dir, '--pai', '0.5']);
    expect(boosted.code).toBe(0);
    expect(boosted.out).toContain(`written to ${join(dir, 'eval-pai.json')}`);
    expect(readFileSync(join(dir, 'eval.json'), 'utf8')).toBe(plain);
    expect(JSON.parse(readFileSync(join(dir, 'eval-pai.json'), 'utf8')).pope.adversarial.n).toBeGreaterThan(0);
    const refused = await once(['eval', '--runtime', 'onnx', '--model', onnx, '--vcd', '1']);
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(/evaluate with --checkpoint \(tfjs runtime\)/);
  });

  it('eval --temperature samples every answer from its seed into eval-t<T>.json; the same seed repeats it, another draws anew', async () => {
    expect((await once(['eval', '--checkpoint', dir])).code).toBe(0);
    const plain = readFileSync(join(dir, 'eval.json'), 'utf8');
    const sampled = await once(['eval', '--checkpoint', dir, '--temperature', '1']);
    expect(sampled.code).toBe(0);
    expect(sampled.out).toContain(`written to ${join(dir, 'eval-t1.json')}`);
    expect(readFileSync(join(dir, 'eval.json'), 'utf8')).toBe(plain);
    const captions = (file: string) => JSON.stringify(JSON.parse(readFileSync(join(dir, file), 'utf8')).samples.captions);
    const first = captions('eval-t1.json');
    expect((await once(['eval', '--checkpoint', dir, '--temperature', '1'])).code).toBe(0);
    expect(captions('eval-t1.json')).toBe(first);
    expect((await once(['eval', '--checkpoint', dir, '--temperature', '1', '--seed', '5'])).code).toBe(0);
    expect(captions('eval-t1-seed5.json')).not.toBe(first);
    expect(captions('eval.json')).not.toBe(first);
    const refused = await once(['eval', '--checkpoint', dir, '--top-p', '0.9']);
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(/--top-p: only applies when sampling; set --temperature > 0/);
  });

  it('eval draws its progress while it answers', async () => {
    const { code, err } = await once(['eval', '--checkpoint', dir]);
    expect(code).toBe(0);
    const lines = [...err.matchAll(/^eval (\d+)\/(\d+) prompts answered ETA (\S+)$/gm)].map((m) => m.slice(1).map(Number));
    expect(lines.length).toBeGreaterThanOrEqual(1);
    const [done, total] = lines.at(-1)!;
    expect(done).toBeGreaterThan(0);
    expect(done).toBe(total); // the last line is the end of the evaluation
  });
});
