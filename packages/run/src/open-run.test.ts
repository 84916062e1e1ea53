import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '@mllm/core';
import { imageToPngBuffer } from '@mllm/data';
import { modelAnswerer } from './answerer';
import { loadImageInput } from './image-input';
import { openRun, type OpenedRun } from './open-run';
import { run, type RunProgress } from './run';

const tiny = JSON.parse(readFileSync(new URL('../../../configs/tiny.json', import.meta.url), 'utf8'));

describe('a reopened run answers prompts and conversations, and reports evaluation progress', () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'open-run-')), 'run');
  const events: RunProgress[] = [];
  let opened: OpenedRun;
  beforeAll(async () => {
    await run(tiny, { out: dir, logger: silentLogger, onProgress: (e) => events.push(e) });
    opened = await openRun(dir);
  });

  it('run reports the final evaluation batch by batch, after the stages', () => {
    const evals = events.filter((e) => e.type === 'eval');
    const lastStage = events.filter((e) => e.type === 'stage-start').at(-1)!;
    expect(evals.length).toBeGreaterThanOrEqual(2); // eval.batchSize 32 < the prompts of 4 test scenes
    expect(evals.every((e) => e.after === lastStage.stage && e.total === evals[0]!.total)).toBe(true);
    const done = evals.map((e) => e.done);
    expect(done).toEqual([...done].sort((a, b) => a - b));
    expect(done.at(-1)).toBe(evals[0]!.total);
    const lastStageEnd = events.length - 1 - [...events].reverse().findIndex((e) => e.type === 'stage-end');
    expect(events.findIndex((e) => e.type === 'eval')).toBeGreaterThan(lastStageEnd);
  });

  it('answer gives the whole text, the same as the greedy evaluation answerer and the streamed tokens', async () => {
    const { world, model, tokenizer } = opened;
    const scenes = world.scenes('test');
    const prompts = ['what do you see in the image ?', 'how many objects are there ?'];
    const requests = scenes.flatMap((s) => prompts.map((prompt) => ({ sceneId: s.id, prompt })));
    const want = await modelAnswerer(model, tokenizer, world, 8).answer(requests);
    const got = await Promise.all(requests.map((r) => opened.answer(world.image(r.sceneId), r.prompt, { maxNewTokens: 8 })));
    expect(got).toEqual(want);
    expect(want.some((a) => a.length > 0)).toBe(true);
    let streamed = '';
    for await (const e of opened.stream(world.image(requests[0]!.sceneId), requests[0]!.prompt, { maxNewTokens: 8 })) streamed += e.text ?? '';
    expect(streamed).toBe(want[0]);
  });

  it('a one-turn conversation is the prompt; a PNG of the scene reads as its pixels', async () => {
    const scene = opened.world.scenes('test')[0]!;
    const image = opened.world.image(scene.id);
    const prompt = 'what do you see in the image ?';
    const png = join(dir, 'scene.png');
    writeFileSync(png, await imageToPngBuffer(image, opened.world.imageSize));
    expect(await opened.loadImage(png)).toEqual(await loadImageInput(png, { size: opened.model.encoder.imageSize }));
    const answer = await opened.answer(image, prompt, { maxNewTokens: 8 });
    expect(await opened.answer(image, [{ from: 'human', value: prompt }], { maxNewTokens: 8 })).toBe(answer);
    expect(await opened.answer(png, prompt, { maxNewTokens: 8 })).toBe(answer);
    await expect(opened.answer(join(dir, 'nope.png'), prompt)).rejects.toThrow(/nope\.png: image file not found/);
  });

  it('evaluate reports its progress and scores as the run did', async () => {
    const progress: [number, number][] = [];
    const result = await opened.evaluate({ onProgress: (done, total) => progress.push([done, total]) });
    expect(progress.at(-1)![0]).toBe(progress.at(-1)![1]);
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
    expect(result.pope).toEqual(report.eval.pope);
    expect(opened.unknownWords('What is in this picture?')).toEqual(['this', 'picture']);
  });
});
