import { describe, expect, it } from 'vitest';
import { evaluate } from './evaluate';
import type { Answerer, EvalSet } from './evaluate';

const scenes = [
  {
    id: 's0',
    objects: [
      { color: 'red', shape: 'circle' },
      { color: 'blue', shape: 'square' },
    ],
  },
  { id: 's1', objects: [{ color: 'green', shape: 'cross' }] },
];

const probe = (sceneId: string, category: string, label: 'yes' | 'no') => ({
  sceneId,
  label,
  question: `is there a ${category} in the image ?`,
});

/** Balanced POPE: each sampling has 2 yes and 2 no probes. */
const set: EvalSet = {
  scenes,
  closedSet: [
    { sceneId: 's0', type: 'existence', question: 'is there a red circle ?', answer: 'yes' },
    { sceneId: 's0', type: 'count', question: 'how many objects are there ?', answer: 'two' },
    { sceneId: 's1', type: 'color', question: 'what color is the cross ?', answer: 'green' },
  ],
  pope: {
    random: [probe('s0', 'red circle', 'yes'), probe('s0', 'yellow cross', 'no'), probe('s1', 'green cross', 'yes'), probe('s1', 'blue triangle', 'no')],
    popular: [probe('s0', 'blue square', 'yes'), probe('s0', 'green cross', 'no'), probe('s1', 'green cross', 'yes'), probe('s1', 'red circle', 'no')],
    adversarial: [probe('s0', 'red circle', 'yes'), probe('s0', 'red square', 'no'), probe('s1', 'green cross', 'yes'), probe('s1', 'green circle', 'no')],
  },
  captionPrompt: 'describe the image .',
};

const alwaysYes: Answerer = { answer: async (requests) => requests.map(() => 'yes') };

/** Knows every answer: closed set and POPE from the set, captions from the ground truth. */
function oracle(evalSet: EvalSet): Answerer {
  const known = new Map<string, string>();
  for (const q of evalSet.closedSet) known.set(`${q.sceneId}|${q.question}`, q.answer);
  for (const probes of Object.values(evalSet.pope)) for (const p of probes) known.set(`${p.sceneId}|${p.question}`, p.label);
  for (const s of evalSet.scenes) {
    known.set(`${s.id}|${evalSet.captionPrompt}`, s.objects.map((o) => `a ${o.color} ${o.shape}`).join(' and ') + ' .');
  }
  return { answer: async (requests) => requests.map((r) => known.get(`${r.sceneId}|${r.prompt}`) ?? '') };
}

describe('evaluate', () => {
  it('an always-yes answerer gets POPE accuracy 0.5 and yes-ratio 1 on a balanced set', async () => {
    const r = await evaluate(alwaysYes, set);
    for (const sampling of ['random', 'popular', 'adversarial'] as const) {
      expect(r.pope[sampling]).toMatchObject({ accuracy: 0.5, precision: 0.5, recall: 1, yesRatio: 1, n: 4 });
    }
    // Only the existence question (answer yes) is right: 1 of 3.
    expect(r.closedSet.accuracy).toBeCloseTo(1 / 3, 12);
    // "yes" mentions no object: nothing hallucinated, nothing covered.
    expect(r.chair).toMatchObject({ chairI: 0, chairS: 0, coverage: 0, captions: 2, mentions: 0 });
    expect(r.samples.captions).toEqual([
      { sceneId: 's0', caption: 'yes' },
      { sceneId: 's1', caption: 'yes' },
    ]);
  });

  it('an oracle answerer scores 1.0 everywhere and CHAIR 0', async () => {
    const r = await evaluate(oracle(set), set);
    for (const sampling of ['random', 'popular', 'adversarial'] as const) {
      expect(r.pope[sampling]).toMatchObject({ accuracy: 1, precision: 1, recall: 1, f1: 1, yesRatio: 0.5 });
    }
    expect(r.closedSet.accuracy).toBe(1);
    expect(r.closedSet.byType).toEqual({
      existence: { accuracy: 1, n: 1 },
      count: { accuracy: 1, n: 1 },
      color: { accuracy: 1, n: 1 },
    });
    expect(r.chair).toMatchObject({ chairI: 0, chairS: 0, coverage: 1, captions: 2, mentions: 3, hallucinated: 0 });
    expect(r.samples.closedSet[1]).toEqual({ ...set.closedSet[1], prediction: 'two' });
  });

  it('sends batches of at most batchSize and reports progress', async () => {
    const sizes: number[] = [];
    const progress: [number, number][] = [];
    const counting: Answerer = {
      answer: async (requests) => {
        sizes.push(requests.length);
        return requests.map(() => 'no');
      },
    };
    // 3 closed-set + 12 POPE + 2 captions = 17 requests.
    await evaluate(counting, set, { batchSize: 5, onProgress: (done, total) => progress.push([done, total]) });
    expect(sizes).toEqual([5, 5, 5, 2]);
    expect(progress).toEqual([
      [5, 17],
      [10, 17],
      [15, 17],
      [17, 17],
    ]);
  });

  it('throws when the answerer returns the wrong number of replies', async () => {
    const short: Answerer = { answer: async (requests) => requests.slice(1).map(() => 'yes') };
    await expect(evaluate(short, set, { batchSize: 4 })).rejects.toThrow(/returned 3 replies for a batch of 4/);
  });

  it('throws naming scene ids that are not in the set', async () => {
    const broken: EvalSet = { ...set, closedSet: [{ sceneId: 'nope', type: 'count', question: 'q', answer: 'one' }] };
    await expect(evaluate(alwaysYes, broken)).rejects.toThrow(/not in set.scenes: nope/);
  });

  it('rejects a batch size below 1', async () => {
    await expect(evaluate(alwaysYes, set, { batchSize: 0 })).rejects.toThrow(/batchSize must be a positive integer/);
  });
});
