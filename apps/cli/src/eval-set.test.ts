import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { Rng } from '@mllm/core';
import { DETAIL_PROMPT, detailedDescription, preferencePairs } from '@mllm/data';
import { evaluate } from '@mllm/eval';
import { createRegistry } from '@mllm/model';
import { parseRunConfig } from '@mllm/training';
import { buildEvalSet } from './eval-set';
import { createWorld } from './session';

const tiny = JSON.parse(readFileSync(new URL('../../../configs/tiny.json', import.meta.url), 'utf8'));
const config = parseRunConfig(tiny, createRegistry());
const world = createWorld(config);
const set = buildEvalSet(world, config);

describe('buildEvalSet', () => {
  it('asks for a detailed description of every test scene and judges it against that scene', () => {
    expect(set.detail?.prompt).toBe(DETAIL_PROMPT);
    const judge = set.detail!.judge!;
    for (const scene of set.scenes) {
      const truth = world.scene(scene.id);
      expect(judge(scene.id, detailedDescription(truth))).toMatchObject({ existence: 0, attribute: 0, relationship: 0 });
      const [pair] = preferencePairs(truth, new Rng(1), { tasks: ['detail'], kinds: { attribute: 1 } });
      expect(judge(scene.id, pair!.rejected)).toMatchObject({ existence: 0, attribute: 1, relationship: 0 });
    }
    expect(() => judge('train-0', 'a red circle')).toThrow(/no test scene "train-0"/);
  });

  it('gives evaluate per-kind rates: zero for an answerer that describes the ground truth', async () => {
    const r = await evaluate({ answer: async (reqs) => reqs.map((q) => (q.prompt === DETAIL_PROMPT ? detailedDescription(world.scene(q.sceneId)) : 'no')) }, set);
    expect(r.detail!.chair).toMatchObject({ chairI: 0, coverage: 1, captions: set.scenes.length });
    expect(r.detail!.kinds!.claims).toBeGreaterThan(set.scenes.length);
    expect(r.detail!.kinds!.rates).toEqual({ existence: 0, attribute: 0, relationship: 0 });
    expect(r.byKind.existence.detailRate).toBe(0);
  });
});
