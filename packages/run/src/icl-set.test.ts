import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { evaluate } from '@mllm/eval';
import { parseRunConfig } from '@mllm/training';
import { WordTokenizer } from '@mllm/tokenizer';
import { createRegistry } from './registry';
import { buildEvalSet } from './eval-set';
import { createSession, createWorld } from './session';

const tiny = JSON.parse(readFileSync(new URL('../../../configs/tiny.json', import.meta.url), 'utf8'));
const registry = createRegistry();
const plain = parseRunConfig({ ...tiny, data: { train: 60, val: 10, test: 30 }, eval: { ...tiny.eval, scenes: 30 } }, registry);
const withIcl = parseRunConfig({ ...tiny, data: { train: 60, val: 10, test: 30 }, eval: { ...tiny.eval, scenes: 30, icl: { queries: 5 } } }, registry);
const interleaved = parseRunConfig({ ...tiny, stages: tiny.stages.map((s: { type: string }) => (s.type === 'instruct' ? { ...s, interleaved: 0.5 } : s)) }, registry);

describe('the few-shot evaluation set', () => {
  const base = buildEvalSet(createWorld(plain), plain);
  const set = buildEvalSet(createWorld(withIcl), withIcl);

  it('is absent without eval.icl, and adding it leaves every other question as it was', () => {
    expect(base.icl).toBeUndefined();
    expect({ ...set, icl: undefined, detail: undefined }).toEqual({ ...base, icl: undefined, detail: undefined });
  });

  it('asks every task at 0, 1, 2 and 4 shots about the evaluated test scenes', () => {
    expect(set.icl!.shots).toEqual([0, 1, 2, 4]);
    expect(Object.keys(set.icl!.tasks)).toEqual(['color-word', 'size-word', 'color-number', 'count-kind']);
    const ids = new Set(set.scenes.map((s) => s.id));
    for (const episodes of Object.values(set.icl!.tasks)) {
      expect(episodes).toHaveLength(5);
      for (const e of episodes) for (const p of [e, ...e.demonstrations, ...Object.values(e.byShots ?? {}).flat()]) expect(ids.has(p.sceneId)).toBe(true);
    }
  });

  it('reaches report.eval.icl with the exact shape: tasks -> shots -> accuracy', async () => {
    const report = await evaluate({ answer: async (requests) => requests.map((r) => r.demonstrations?.at(-1)?.answer ?? 'yes') }, set);
    for (const task of ['color-word', 'size-word', 'color-number', 'count-kind']) {
      const shots = report.icl!.tasks[task]!.shots;
      expect(Object.keys(shots)).toEqual(['0', '1', '2', '4']);
      for (const acc of Object.values(shots)) expect(acc).toBeGreaterThanOrEqual(0), expect(acc).toBeLessThanOrEqual(1);
    }
  });
});

describe('the vocabulary of a run', () => {
  const words = (config: typeof plain) => {
    const session = createSession(config, registry);
    session.model.dispose();
    return session.tokenizer;
  };

  it('stays the same without interleaved data or eval.icl, and learns the few-shot words with either', () => {
    const before = words(plain);
    expect(before.unknownWords('what word goes with the circle ?')).toEqual(['word', 'goes', 'with']);
    expect(words(withIcl).unknownWords('what word goes with the red one ? how many ?')).toEqual([]);
    expect(words(interleaved).unknownWords('what word goes with the red one ? how many ?')).toEqual([]);
    // a config that asks for neither gets the world corpus's vocabulary, ids and all
    const worldOnly = WordTokenizer.train(createWorld(plain).corpus());
    expect(before.vocabSize).toBe(worldOnly.vocabSize);
    expect(before.encode('is there a red circle in the image ? yes')).toEqual(worldOnly.encode('is there a red circle in the image ? yes'));
  });
});
