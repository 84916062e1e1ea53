import { describe, expect, it } from 'vitest';
import { evaluate } from './evaluate';
import type { Answerer, EvalSet } from './evaluate';
import { iclAnswer, iclRequests, scoreIcl, type IclSet } from './icl';
import { ICL_CURVE_FILE, iclCurveSvg, iclMarkdown } from './icl-report';

/** Two tasks; the colour of each scene's only object is the key (s0 red, s1 blue, s2 red). */
const icl: IclSet = {
  shots: [0, 1, 2],
  tasks: {
    colour: [
      { sceneId: 's0', question: 'what word goes with it ?', answer: 'cat', demonstrations: [{ sceneId: 's1', question: 'what word goes with it ?', answer: 'dog' }, { sceneId: 's2', question: 'what word goes with it ?', answer: 'cat' }] },
      { sceneId: 's1', question: 'what word goes with it ?', answer: 'dog', demonstrations: [{ sceneId: 's0', question: 'what word goes with it ?', answer: 'cat' }, { sceneId: 's2', question: 'what word goes with it ?', answer: 'cat' }] },
    ],
    count: [{ sceneId: 's2', question: 'how many ?', answer: 'one', demonstrations: [{ sceneId: 's0', question: 'how many ?', answer: 'one' }, { sceneId: 's1', question: 'how many ?', answer: 'two' }] }],
  },
};
const colourOf: Record<string, string> = { s0: 'red', s1: 'blue', s2: 'red' };

/** Answers with the label of the last demonstration whose scene has the query's colour, else "none": a perfect in-context learner. */
const matcher: Answerer = {
  answer: async (requests) => requests.map((r) => [...(r.demonstrations ?? [])].reverse().find((d) => colourOf[d.sceneId] === colourOf[r.sceneId])?.answer ?? 'none'),
};

describe('few-shot scoring', () => {
  it('reads the first word of a reply, lower case, punctuation off', () => {
    expect(iclAnswer('Two .')).toBe('two');
    expect(iclAnswer('  red circle')).toBe('red');
    expect(iclAnswer('"cat", then')).toBe('cat');
    expect(iclAnswer('')).toBe('');
  });

  it('asks each task at each shot count with the first k demonstrations', () => {
    const requests = iclRequests(icl);
    expect(requests).toHaveLength(3 * 3);
    expect(requests.map((r) => r.demonstrations?.length ?? 0)).toEqual([0, 0, 1, 1, 2, 2, 0, 1, 2]);
    expect(requests[4]!.demonstrations!.map((d) => d.sceneId)).toEqual(['s1', 's2']);
    expect(requests[0]).toEqual({ sceneId: 's0', prompt: 'what word goes with it ?' });
  });

  it('scores a hand-worked case: the matcher is right once its demonstrations show the query colour', async () => {
    // colour, 0 shots: both "none" -> 0. 1 shot: s0 sees s1 (blue) -> none; s1 sees s0 (red) -> none: 0.
    // 2 shots: s0 sees s2 (red) -> cat, right; s1 sees only red -> none: 1/2.
    // count, keyed on colour too: 0 shots none; 1 shot s2 sees s0 (red) -> "one", right; 2 shots: same.
    const replies = await matcher.answer(iclRequests(icl));
    // copying a random shown demonstration: colour 1 shot 0 of 2 episodes, 2 shots (1/2 + 0) / 2; count 1 of 1, then 1/2
    expect(scoreIcl(icl, replies)).toEqual({
      tasks: { colour: { shots: { '0': 0, '1': 0, '2': 0.5 }, copy: { '1': 0, '2': 0.25 } }, count: { shots: { '0': 0, '1': 1, '2': 1 }, copy: { '1': 1, '2': 0.5 } } },
    });
    const scored = scoreIcl(icl, ['CAT .', 'dog', 'x', 'x', 'x', 'x', 'One', 'x', 'x']).tasks;
    expect([scored.colour!.shots, scored.count!.shots]).toEqual([{ '0': 1, '1': 0, '2': 0 }, { '0': 1, '1': 0, '2': 0 }]);
  });

  it('shows byShots[k] where an episode gives it, and scores copying a random shown demonstration', async () => {
    const d = (sceneId: string, answer: string) => ({ sceneId, question: 'what word goes with it ?', answer });
    const set: IclSet = {
      shots: [0, 1, 2],
      tasks: { colour: [{ ...d('s0', 'cat'), demonstrations: [d('s1', 'dog'), d('s2', 'cat')], byShots: { '1': [d('s2', 'cat')], '2': [d('s1', 'dog'), d('s2', 'cat')] } }] },
    };
    expect(iclRequests(set).map((r) => r.demonstrations?.map((x) => x.sceneId))).toEqual([undefined, ['s2'], ['s1', 's2']]);
    // the matcher finds s2 (red, as s0) in both prompts; copying a random one: 1 of 1, then 1 of 2
    expect(scoreIcl(set, await matcher.answer(iclRequests(set)))).toEqual({ tasks: { colour: { shots: { '0': 0, '1': 1, '2': 1 }, copy: { '1': 1, '2': 0.5 } } } });
    const wrong: IclSet = { ...set, tasks: { colour: [{ ...set.tasks.colour![0]!, byShots: { '2': [d('s2', 'cat')] } }] } };
    expect(() => iclRequests(wrong)).toThrow(/episode 0 gives 1 demonstrations for 2 shots/);
  });

  it('rejects a reply count that does not match and episodes with too few demonstrations', () => {
    expect(() => scoreIcl(icl, ['cat'])).toThrow(/9 requests but 1 replies/);
    const short: IclSet = { shots: [0, 4], tasks: icl.tasks };
    expect(() => iclRequests(short)).toThrow(/task "colour" episode 0 has 2 demonstrations but 4 shots/);
    expect(() => iclRequests({ shots: [-1], tasks: icl.tasks })).toThrow(/integers >= 0/);
    expect(() => iclRequests({ shots: [0], tasks: { empty: [] } })).toThrow(/no episodes/);
  });

  it('evaluate adds eval.icl and checks the demonstrations\' scene ids', async () => {
    const base: EvalSet = { scenes: ['s0', 's1', 's2'].map((id) => ({ id, objects: [] })), closedSet: [], pope: { random: [], popular: [], adversarial: [] }, captionPrompt: 'describe .', icl };
    const report = await evaluate(matcher, base, { batchSize: 4 });
    expect(report.icl!.tasks.colour!.shots).toEqual({ '0': 0, '1': 0, '2': 0.5 });
    const stray: IclSet = { shots: [1], tasks: { colour: [{ ...icl.tasks.colour![0]!, demonstrations: [{ sceneId: 'elsewhere', question: 'q', answer: 'a' }] }] } };
    await expect(evaluate(matcher, { ...base, icl: stray })).rejects.toThrow(/elsewhere/);
  });
});

describe('few-shot report section', () => {
  it('tabulates accuracy by shots with the gain from the fewest to the most, and links the curve', () => {
    const lines = iclMarkdown({ tasks: { 'color-number': { shots: { '0': 0, '1': 0.25, '2': 0.4, '4': 0.55 } } } });
    expect(lines[0]).toBe('## In-context learning (few-shot)');
    expect(lines).toContain('| task | 0-shot | 1-shot | 2-shot | 4-shot | 4-shot - 0-shot |');
    expect(lines).toContain('| color-number | 0.000 | 0.250 | 0.400 | 0.550 | 0.550 |');
    expect(lines.at(-1)).toBe(`![accuracy against the number of demonstrations](${ICL_CURVE_FILE})`);
    expect(lines.some((l) => l.includes('copy a random demonstration'))).toBe(false);
    expect(iclMarkdown({ tasks: {} })).toEqual([]);
    const withCopy = iclMarkdown({ tasks: { 'color-number': { shots: { '0': 0, '1': 0.9, '4': 0.6 }, copy: { '1': 1, '4': 0.45 } } } });
    expect(withCopy).toContain('| color-number: copy a random demonstration |  | 1.000 | 0.450 |  |');
  });

  it('draws one line per task through its points', () => {
    const svg = iclCurveSvg({ tasks: { a: { shots: { '0': 0, '4': 1 } }, b: { shots: { '0': 0.5, '4': 0.5 } } } });
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.match(/<polyline/g)).toHaveLength(2);
  });
});
