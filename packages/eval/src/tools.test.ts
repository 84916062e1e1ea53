import { describe, expect, it } from 'vitest';
import { scoreTools, toolsAccuracy } from './tools';
import { reportMarkdown, type RunReport } from './report-md';

const items = [
  { type: 'spatial', answer: 'yes' },
  { type: 'spatial', answer: 'no' },
  { type: 'count', answer: 'two' },
  { type: 'count', answer: 'three' },
];

describe('scoreTools', () => {
  it('scores answers by type as the closed set does, an unanswered question wrong', () => {
    expect(toolsAccuracy(items, ['Yes.', 'yes', 'two .', undefined])).toEqual({ accuracy: 0.5, byType: { count: 0.5, spatial: 0.5 } });
    expect(() => toolsAccuracy(items, ['yes'])).toThrow(/4 items but 1 predictions/);
  });

  it('adds calls per question, parse failures, errors and the same questions answered without tools', () => {
    const outcomes = [
      { answer: 'yes', calls: 1, parseFailures: 0, errors: 0 },
      { answer: 'no', calls: 2, parseFailures: 1, errors: 1 },
      { answer: 'two', calls: 1, parseFailures: 0, errors: 0 },
      { calls: 3, parseFailures: 0, errors: 2 },
    ];
    const r = scoreTools(items, outcomes, ['no', 'no', 'one', 'three'], { paradigm: 'finetuned', detectorCellAccuracy: 0.9 });
    expect(r).toEqual({
      accuracy: 0.75,
      byType: { count: 0.5, spatial: 1 },
      callsPerAnswer: 7 / 4,
      parseFailures: 1,
      toolErrors: 3,
      unanswered: 1,
      questions: { spatial: 2, count: 2 },
      paradigm: 'finetuned',
      withoutTools: { accuracy: 0.5, byType: { count: 0.5, spatial: 0.5 } },
      detectorCellAccuracy: 0.9,
    });
  });

  it('report.md gets a with/without tools section', () => {
    const tools = scoreTools(items, items.map((i) => ({ answer: i.answer, calls: 1, parseFailures: 0, errors: 0 })), ['x', 'x', 'x', 'x'], { paradigm: 'training-free', detectorCellAccuracy: 1 });
    const md = reportMarkdown({
      stages: [],
      eval: {
        pope: Object.fromEntries(['random', 'popular', 'adversarial'].map((s) => [s, { accuracy: 0.5, precision: 0, recall: 0, f1: 0, yesRatio: 0, n: 0 }])) as never,
        chair: { chairI: 0, chairS: 0, mentions: 0, hallucinated: 0, captions: 0 } as never,
        closedSet: { accuracy: 0, byType: {}, n: 0 },
        tools: { ...tools, samples: [{ type: 'spatial', answer: 'yes', trace: [{ role: 'controller', text: 'call compare red circle left of blue square' }] }] },
      },
    } as unknown as RunReport);
    expect(md).toContain('## With and without tools');
    expect(md).toContain('| spatial | 1.000 | 0.000 | 2 |');
    expect(md).toContain('training-free controller');
    expect(md).toContain('  - controller: `call compare red circle left of blue square`');
  });
});
