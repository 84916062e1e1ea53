import { describe, expect, it } from 'vitest';
import { heldOutAccuracy, type HeldOutItem } from './held-out';
import { heldOutSection } from './held-out-md';

// A fixture whose four figures are counted by hand below.
const item = (task: string, taskSplit: 'heldIn' | 'heldOut', phrasingSplit: 'heldIn' | 'heldOut', answer: string, prediction: string): HeldOutItem => ({ task, taskSplit, phrasingSplit, answer, prediction });
const items: HeldOutItem[] = [
  item('count', 'heldIn', 'heldIn', 'two', 'two'),
  item('count', 'heldIn', 'heldOut', 'two', 'Two .'), // normalised: right
  item('count', 'heldIn', 'heldIn', 'three', 'three'),
  item('count', 'heldIn', 'heldOut', 'three', 'green'),
  item('color', 'heldIn', 'heldIn', 'red', 'red'),
  item('color', 'heldIn', 'heldOut', 'red', 'blue'),
  item('color', 'heldIn', 'heldIn', 'blue', 'yellow'),
  item('color', 'heldIn', 'heldOut', 'blue', 'blue'),
  item('size', 'heldOut', 'heldIn', 'small', 'small'),
  item('size', 'heldOut', 'heldIn', 'large', 'top left'),
  item('size', 'heldOut', 'heldIn', 'large', 'no'),
];

describe('heldOutAccuracy', () => {
  it('scores held-in against held-out tasks in trained phrasings, and trained against held-out phrasings of held-in tasks', () => {
    const r = heldOutAccuracy(items);
    // trained phrasings of held-in tasks: two, three, red right; blue wrong -> 3 / 4
    // held-out phrasings of held-in tasks: two, blue right; three, red wrong -> 2 / 4
    // held-out task: small right; large twice wrong -> 1 / 3
    expect(r.tasks).toEqual({ heldIn: 0.75, heldOut: 1 / 3 });
    expect(r.phrasings).toEqual({ heldIn: 0.75, heldOut: 0.5 });
    expect(r.byTask).toEqual({ count: { split: 'heldIn', heldIn: 1, heldOut: 0.5 }, color: { split: 'heldIn', heldIn: 0.5, heldOut: 0.5 }, size: { split: 'heldOut', heldIn: 1 / 3 } });
    expect(r.n).toEqual({ heldInTasks: 4, heldOutTasks: 3, heldOutPhrasings: 4 });
  });

  it('scores an empty group 0, never NaN (report.json keeps a number)', () => {
    const r = heldOutAccuracy(items.filter((i) => i.taskSplit === 'heldIn'));
    expect(r.tasks.heldOut).toBe(0);
    expect(JSON.parse(JSON.stringify(r)).tasks.heldOut).toBe(0);
  });

  it('renders a report.md section with the four figures, the ratio and a row per task', () => {
    const md = heldOutSection(heldOutAccuracy(items)).join('\n');
    expect(md).toContain('## Held-in and held-out tasks and phrasings');
    expect(md).toContain('held-out zero-shot 0.333 (3)');
    expect(md).toContain('trained 0.750, held-out 0.500 (4) (held-out / held-in 0.667)');
    expect(md).toContain('| size | held out | 0.333 |  |');
    expect(md).toContain('| count | held in | 1.000 | 0.500 |');
  });
});
