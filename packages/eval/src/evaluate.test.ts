import { describe, expect, it } from 'vitest';
import { evaluate } from './evaluate';
import type { Answerer, EvalSet } from './evaluate';
import type { DescriptionJudgement } from './hallucination-kinds';

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

describe('evaluate with detailed descriptions', () => {
  const descriptions: Record<string, string> = {
    s0: 'a red circle is at the top left . a blue square is at the top right . a green cross is at the bottom left .',
    s1: 'a green cross is at the top left .',
  };
  /** Fake judge: s0 has 4 claims, one with an existence and one with an attribute hallucination; s1 is clean. */
  const verdicts: Record<string, DescriptionJudgement> = {
    s0: { claims: 4, existence: 1, attribute: 1, relationship: 0 },
    s1: { claims: 1, existence: 0, attribute: 0, relationship: 0 },
  };
  const judged: [string, string][] = [];
  const detailSet: EvalSet = {
    ...set,
    closedSet: [...set.closedSet, { sceneId: 's0', type: 'spatial', question: 'is the red circle left of the blue square ?', answer: 'yes' }],
    detail: {
      prompt: 'describe the image in detail .',
      judge: (sceneId, text) => {
        judged.push([sceneId, text]);
        return verdicts[sceneId]!;
      },
    },
  };
  const describer: Answerer = {
    answer: async (requests) => requests.map((r) => (r.prompt === 'describe the image in detail .' ? descriptions[r.sceneId]! : 'yes')),
  };

  it('asks the detail prompt once per scene, after everything else, and judges each reply', async () => {
    const asked: { sceneId: string; prompt: string }[] = [];
    const r = await evaluate({ answer: async (reqs) => (asked.push(...reqs), describer.answer(reqs)) }, detailSet, { batchSize: 7 });
    expect(asked).toHaveLength(4 + 12 + 2 + 2);
    expect(asked.slice(-2)).toEqual([
      { sceneId: 's0', prompt: 'describe the image in detail .' },
      { sceneId: 's1', prompt: 'describe the image in detail .' },
    ]);
    expect(judged).toEqual([
      ['s0', descriptions.s0],
      ['s1', descriptions.s1],
    ]);
    // CHAIR on descriptions: 4 mentions, green cross absent from s0 -> 1/4; 1 of 2 descriptions
    expect(r.detail!.chair).toMatchObject({ chairI: 0.25, chairS: 0.5, mentions: 4, hallucinated: 1, captions: 2 });
    expect(r.detail!.kinds).toEqual({
      descriptions: 2,
      claims: 5,
      counts: { existence: 1, attribute: 1, relationship: 0 },
      rates: { existence: 0.2, attribute: 0.2, relationship: 0 },
      hallucinatedShare: 0.5,
    });
    expect(r.detail!.samples).toEqual([
      { sceneId: 's0', description: descriptions.s0 },
      { sceneId: 's1', description: descriptions.s1 },
    ]);
    // captions are still the caption replies
    expect(r.samples.captions.map((c) => c.caption)).toEqual(['yes', 'yes']);
  });

  it('scores the descriptions by FaithScore against the ground truth, and against a learned view when the set has one', async () => {
    // scenes carry no cells here, so each "at the <cell>" attribute fact fails: s0 has 3 object facts (green cross absent) and 3 cell facts, s1 1 + 1
    const exact = (await evaluate(describer, detailSet)).openSet!.faithScore;
    expect(exact.factsByKind).toEqual({ object: 4, attribute: 4, relation: 0, count: 0 });
    expect(exact.byKind.object).toBe(0.75);
    expect(exact.score).toBe(3 / 8);
    expect(exact.learned).toBeUndefined();
    // a "detector" that saw every object at the cell the description names: all 8 facts verified
    const seen = { s0: [['red', 'circle', 'top left'], ['blue', 'square', 'top right'], ['green', 'cross', 'bottom left']], s1: [['green', 'cross', 'top left']] } as Record<string, string[][]>;
    const seenScene = (id: string) => ({ objects: seen[id]!.map(([color, shape, cell]) => ({ color: color!, shape: shape!, cell })) });
    const learned = (await evaluate(describer, { ...detailSet, detail: { ...detailSet.detail!, seenScene } })).openSet!.faithScore.learned!;
    expect(learned.score).toBe(1);
  });

  it('groups the scores by hallucination kind', async () => {
    const r = await evaluate(describer, detailSet);
    expect(r.byKind).toEqual({
      existence: { pope: { random: 0.5, popular: 0.5, adversarial: 0.5 }, captionChairI: 0, detailChairI: 0.25, closedSet: 1, detailRate: 0.2 },
      attribute: { closedSet: 0, detailRate: 0.2 },
      relationship: { closedSet: 1, detailRate: 0 },
    });
  });

  it('scores descriptions by CHAIR alone without a judge, and leaves detail out without a prompt', async () => {
    const r = await evaluate(describer, { ...detailSet, detail: { prompt: 'describe the image in detail .' } });
    expect(r.detail!.kinds).toBeUndefined();
    expect(r.detail!.chair.chairI).toBe(0.25);
    expect(r.byKind.attribute).toEqual({ closedSet: 0 });
    const plain = await evaluate(alwaysYes, set);
    expect(plain.detail).toBeUndefined();
    expect(plain.byKind).toEqual({ existence: { pope: { random: 0.5, popular: 0.5, adversarial: 0.5 }, captionChairI: 0, closedSet: 1 }, attribute: { closedSet: 0 }, relationship: {} });
  });

  it('hands every description to the judge hook once and reports what it returns as judge', async () => {
    const seen: { sceneId: string; text: string }[][] = [];
    const judge = async (descriptions: { sceneId: string; text: string }[]) => (seen.push(descriptions), { rubric: { spearman: 1, n: 2, unparsed: 0, meanScore: 5, meanExact: 5, judge: 'fake', bySource: {} } });
    const r = await evaluate(describer, detailSet, { judge });
    expect(seen).toEqual([[{ sceneId: 's0', text: descriptions.s0 }, { sceneId: 's1', text: descriptions.s1 }]]);
    expect(r.judge?.rubric?.judge).toBe('fake');
    expect((await evaluate(describer, detailSet)).judge).toBeUndefined();
  });
});
