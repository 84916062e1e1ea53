import { describe, it, expect } from 'vitest';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng, zodIssues } from '@mllm/core';
import { StageMixture, mixtureFileIssues, trainsGeneralText } from './data-mixture';
import { stageSchema } from './run-config';
import { runStage } from './run-stage';
import { StageData, pickInstructKind, pickStageKind } from './stage-data';
import { make, tokenizer, world } from './tiny-run.test-helper';

const issuesOf = (data: unknown) => {
  const r = stageSchema.safeParse({ type: 'instruct', steps: 1, data });
  return r.success ? [] : zodIssues(r.error, 'stages[3]');
};

describe('stage data mixtures', () => {
  it('config errors name the path: unknown source, weight <= 0, missing file, a source listed twice', async () => {
    expect(issuesOf([{ source: 'web', weight: 1 }])).toEqual([{ path: 'stages[3].data[0].source', message: expect.stringContaining("'shapes' | 'text' | 'general' | 'llava'") }]);
    expect(issuesOf([{ source: 'shapes', weight: 0 }])).toEqual([{ path: 'stages[3].data[0].weight', message: expect.stringContaining('> 0') }]);
    expect(issuesOf([{ source: 'text', weight: -1 }])[0]!.path).toBe('stages[3].data[0].weight');
    expect(issuesOf([{ source: 'shapes' }, { source: 'shapes', weight: 2 }])[0]!.path).toBe('stages[3].data[1]');
    expect(issuesOf([])[0]!.path).toBe('stages[3].data');
    expect(stageSchema.safeParse({ type: 'dpo', steps: 1, data: [{ source: 'shapes' }] }).success).toBe(false);

    const dir = await mkdtemp(join(tmpdir(), 'mllm-mix-'));
    await writeFile(join(dir, 'train.jsonl'), '');
    const stages = [
      stageSchema.parse({ type: 'align', steps: 1 }),
      stageSchema.parse({ type: 'instruct', steps: 1, data: [{ source: 'shapes' }, { source: 'llava', file: join(dir, 'train.jsonl'), images: join(dir, 'img'), valFile: join(dir, 'nope.jsonl') }] }),
    ];
    expect(mixtureFileIssues(stages)).toEqual([
      { path: 'stages[1].data[1].valFile', message: expect.stringContaining('nope.jsonl does not exist') },
      { path: 'stages[1].data[1].images', message: expect.stringContaining('is not a folder') },
    ]);
  });

  it('one source per batch, drawn in proportion to the weights, the same for the same (seed, stage, step)', () => {
    const mixture = new StageMixture([
      { label: 'a', weight: 0.8 },
      { label: 'b', weight: 0.2 },
      { label: 'c', weight: 1 },
    ]);
    const data = new StageData(world, tokenizer, 3);
    const draws = Array.from({ length: 4000 }, (_, step) => mixture.pick(data.rngFor(1, step).fork('source')).label);
    const share = (l: string) => draws.filter((d) => d === l).length / draws.length;
    expect(share('a')).toBeCloseTo(0.4, 1);
    expect(share('b')).toBeCloseTo(0.1, 1);
    expect(share('c')).toBeCloseTo(0.5, 1);
    expect(Array.from({ length: 50 }, (_, step) => mixture.pick(data.rngFor(1, step).fork('source')).label)).toEqual(draws.slice(0, 50));
  });

  it('a shapes + text mixture trains on both, validates each source and weighs them as training does', async () => {
    const stage = stageSchema.parse({ type: 'instruct', steps: 8, batchSize: 4, evalEvery: 0, data: [{ source: 'shapes', weight: 1 }, { source: 'text', weight: 1 }] });
    const data = new StageData(world, tokenizer, 11);
    const result = await runStage(stage, 2, make(), data);
    const shapes = result.heldOut!['loss shapes']!;
    const text = result.heldOut!['loss text']!;
    expect(Number.isFinite(shapes) && Number.isFinite(text)).toBe(true);
    expect(result.valLoss).toBeCloseTo((shapes + text) / 2, 5);
    // text batches have no image; the instruct data of this stage has one per sample
    const mixture = data.mixture(2)!;
    const textBatch = data.sourceSamples(mixture.sources[1]!, data.rngFor(2, 0), 'train', 4);
    expect(textBatch.every((s) => s.images.length === 0 && !s.ids.includes(tokenizer.special.image))).toBe(true);
  });

  it('a general source gives image-free statements, loss on every token after BOS, no chat template', async () => {
    const stage = stageSchema.parse({ type: 'instruct', steps: 2, batchSize: 4, evalEvery: 0, data: [{ source: 'shapes', weight: 1 }, { source: 'general', weight: 1 }] });
    const data = new StageData(world, tokenizer, 5);
    await data.prepareStage(stage, 2, make());
    const general = data.mixture(2)!.sources[1]!;
    expect(general.label).toBe('general');
    const batch = data.sourceSamples(general, data.rngFor(2, 0), 'train', 4);
    const { bos, eos, image } = tokenizer.special;
    for (const sample of batch) {
      expect(sample.images).toEqual([]);
      expect(sample.ids[0]).toBe(bos);
      expect(sample.ids.at(-1)).toBe(eos);
      expect(sample.ids.includes(image)).toBe(false);
      expect(sample.lossMask).toEqual(sample.ids.map((_, i) => (i === 0 ? 0 : 1)));
      // statements, not questions: the tiny tokenizer reads every word it knows, and no '?'
      expect(tokenizer.decode(sample.ids.slice(1, -1))).not.toContain('?');
    }
    // the same (seed, stage, step) draws the same text
    expect(data.sourceSamples(general, data.rngFor(2, 0), 'train', 4)).toEqual(batch);
    // a run trains on general text (and its tokenizer must learn the words) through either door
    const shapesOnly = stageSchema.parse({ type: 'instruct', steps: 2 });
    expect(trainsGeneralText({ data: { instructions: undefined } as never, stages: [stage] })).toBe(true);
    expect(trainsGeneralText({ data: { instructions: { generalText: 0.3 } } as never, stages: [shapesOnly] })).toBe(true);
    expect(trainsGeneralText({ data: { instructions: { generalText: 0 } } as never, stages: [shapesOnly] })).toBe(false);
    expect(trainsGeneralText({ data: {} as never, stages: [shapesOnly] })).toBe(false);
  });

  it('without a chainOfThought share the instruct kinds are drawn exactly as before; with one, reasoning kinds take that share', () => {
    for (let step = 0; step < 200; step++) {
      const [a, b] = [new Rng(step), new Rng(step)];
      expect(pickStageKind(a, 0)).toBe(pickInstructKind(b));
      expect(a.next()).toBe(b.next());
    }
    const kinds = Array.from({ length: 4000 }, (_, i) => pickStageKind(new Rng(7).fork(`k${i}`), 0.3));
    const share = (k: string) => kinds.filter((x) => x === k).length / kinds.length;
    expect(share('chain')).toBeCloseTo(0.15, 1);
    expect(share('reasoning-qa')).toBeCloseTo(0.15, 1);
  });
});
