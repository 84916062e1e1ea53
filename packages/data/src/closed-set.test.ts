import { describe, expect, it } from 'vitest';
import { Rng } from '@mllm/core';
import { closedSetQuestions } from './closed-set';
import { generateScene } from './generate-scene';
import { cellPosition, categoryOf } from './scene';
import type { Scene } from './scene';

const NUMBERS: Record<string, number> = { one: 1, two: 2, three: 3, four: 4 };

/** Independent re-derivation of each answer from the scene, by regex over the question. */
function recompute(scene: Scene, question: string): string {
  let m = /^is there a (\w+) (\w+) in the image \?$/.exec(question);
  if (m) return scene.objects.some((o) => o.color === m![1] && o.shape === m![2]) ? 'yes' : 'no';
  m = /^what color is the (\w+) \?$/.exec(question);
  if (m) {
    const hits = scene.objects.filter((o) => o.shape === m![1]);
    expect(hits).toHaveLength(1);
    return hits[0]!.color;
  }
  if (question === 'how many objects are there ?') return Object.keys(NUMBERS)[scene.objects.length - 1]!;
  m = /^is the (\w+ \w+) (left of|right of|above|below) the (\w+ \w+) \?$/.exec(question);
  if (m) {
    const find = (c: string) => {
      const hits = scene.objects.filter((o) => categoryOf(o) === c);
      expect(hits).toHaveLength(1);
      return cellPosition(hits[0]!.cell);
    };
    const [a, b] = [find(m[1]!), find(m[3]!)];
    const truth = {
      'left of': a.column === 'left' && b.column === 'right',
      'right of': a.column === 'right' && b.column === 'left',
      above: a.row === 'top' && b.row === 'bottom',
      below: a.row === 'bottom' && b.row === 'top',
    }[m[2] as 'above'];
    return truth ? 'yes' : 'no';
  }
  throw new Error(`unrecognised question: ${question}`);
}

describe('closedSetQuestions', () => {
  it('answers agree with an independent recomputation on 300 scenes', () => {
    const rng = new Rng(21);
    const types = new Set<string>();
    for (let i = 0; i < 300; i++) {
      const scene = generateScene(rng, `s${i}`);
      for (const q of closedSetQuestions(scene, rng)) {
        types.add(q.type);
        expect(q.answer, q.question).toBe(recompute(scene, q.question));
      }
    }
    expect([...types].sort()).toEqual(['color', 'count', 'existence', 'spatial']);
  });

  it('balances yes/no for existence and spatial questions', () => {
    const rng = new Rng(4);
    let yes = 0;
    let no = 0;
    for (let i = 0; i < 200; i++) {
      for (const q of closedSetQuestions(generateScene(rng, `s${i}`), rng)) {
        if (q.type === 'existence' || q.type === 'spatial') q.answer === 'yes' ? yes++ : no++;
      }
    }
    expect(yes).toBe(no);
    expect(yes).toBeGreaterThan(200);
  });
});
