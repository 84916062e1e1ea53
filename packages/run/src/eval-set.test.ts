import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { Rng } from '@mllm/core';
import { DETAIL_PROMPT, REASONING_PROMPT, detailedDescription, preferencePairs, reasoningQuestions } from '@mllm/data';
import { evaluate } from '@mllm/eval';
import { createRegistry } from './registry';
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

describe('buildEvalSet with chain-of-thought training', () => {
  const cot = parseRunConfig({ ...tiny, stages: tiny.stages.map((s: { type: string }) => (s.type === 'instruct' ? { ...s, chainOfThought: 0.2 } : s)) }, createRegistry());
  const withReasoning = buildEvalSet(createWorld(cot), cot);

  it('asks the reasoning questions of every test scene, and leaves the other questions as they were', () => {
    expect(set.reasoning).toBeUndefined();
    const r = withReasoning.reasoning!;
    expect(new Set(r.items.map((q) => q.sceneId))).toEqual(new Set(set.scenes.map((s) => s.id)));
    expect(new Set(r.items.map((q) => q.type))).toEqual(new Set(['count', 'color', 'spatial']));
    expect(r.prompt).toBe(REASONING_PROMPT);
    expect(withReasoning.closedSet).toEqual(set.closedSet);
    expect(withReasoning.pope).toEqual(set.pope);
  });

  it('an answerer that reasons from the ground truth scores 1 with and without the chain', async () => {
    // the set draws its questions from one stream over all scenes; recompute them the same way
    const answers = new Map<string, { answer: string; chain: string }>();
    const rng = new Rng(cot.seed).fork('eval:reasoning');
    for (const scene of withReasoning.scenes) for (const q of reasoningQuestions(world.scene(scene.id), rng)) answers.set(`${scene.id}|${q.question}`, q);
    const r = await evaluate(
      {
        answer: async (reqs) =>
          reqs.map(({ sceneId, prompt }) => {
            const direct = answers.get(`${sceneId}|${prompt}`);
            if (direct) return direct.answer;
            return answers.get(`${sceneId}|${prompt.replace(` ${REASONING_PROMPT}`, '')}`)?.chain ?? 'no';
          }),
      },
      withReasoning,
    );
    expect(r.reasoning!.direct.accuracy).toBe(1);
    expect(r.reasoning!.chain.accuracy).toBe(1);
    expect(r.reasoning!.answered).toBe(1);
    // the original chains list every object with its cell, so the world's parser recomputes each answer
    expect(r.reasoning!.inconsistent).toBe(0);
  });
});
