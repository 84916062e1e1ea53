import { describe, expect, it } from 'vitest';
import { Rng } from '@mllm/core';
import { ANSWER_MARKER, REASONING_PROMPT, reasoningCorpus, reasoningQuestions, withReasoningPrompt } from './chain-of-thought';
import { generateScene } from './generate-scene';
import { cellPosition, type Scene } from './scene';

const NUMBERS = ['zero', 'one', 'two', 'three', 'four'];
const SINGULAR: Record<string, string> = { circles: 'circle', squares: 'square', triangles: 'triangle', crosses: 'cross' };
const key = (o: { size: string; color: string; shape: string }) => `${o.size} ${o.color} ${o.shape}`;

/** The answer re-derived from the scene by regex over the question, independently of the generator. */
function truth(scene: Scene, question: string): { answer: string; selected?: string[] } {
  let m = /^how many (?:(\w+) objects|objects|(\w+)) are there \?$/.exec(question);
  if (m) {
    const hits = scene.objects.filter((o) => (m![1] ? o.color === m![1] : m![2] ? o.shape === SINGULAR[m![2]] : true));
    return { answer: NUMBERS[hits.length]!, selected: m[1] || m[2] ? hits.map(key) : undefined };
  }
  m = /^what color is the (\w+) \?$/.exec(question);
  if (m) {
    const hits = scene.objects.filter((o) => o.shape === m![1]);
    expect(hits).toHaveLength(1);
    return { answer: hits[0]!.color, selected: hits.map(key) };
  }
  m = /^is the (\w+) (\w+) (left of|right of|above|below) the (\w+) (\w+) \?$/.exec(question);
  if (!m) throw new Error(`unrecognised question: ${question}`);
  const find = (color: string, shape: string) => scene.objects.find((o) => o.color === color && o.shape === shape)!;
  const [a, b] = [cellPosition(find(m[1]!, m[2]!).cell), cellPosition(find(m[4]!, m[5]!).cell)];
  const holds = { 'left of': a.column === 'left' && b.column === 'right', 'right of': a.column === 'right' && b.column === 'left', above: a.row === 'top' && b.row === 'bottom', below: a.row === 'bottom' && b.row === 'top' }[m[3]!];
  return { answer: holds ? 'yes' : 'no' };
}

describe('reasoningQuestions', () => {
  it('every chain lists exactly the scene objects, selects the right ones and ends in the true answer', () => {
    const rng = new Rng(3);
    const seen = new Set<string>();
    for (let i = 0; i < 300; i++) {
      const scene = generateScene(rng, `s${i}`);
      for (const q of reasoningQuestions(scene, rng)) {
        seen.add(q.type);
        const [listing, ...rest] = q.chain.split(' . ');
        const listed = [...listing!.matchAll(/a (\w+) (\w+) (\w+) at the (\w+ \w+)/g)].map((x) => ({ obj: `${x[1]} ${x[2]} ${x[3]}`, cell: x[4] }));
        expect(listed).toEqual(scene.objects.map((o) => ({ obj: key(o), cell: o.cell })));
        const expected = truth(scene, q.question);
        expect(q.answer).toBe(expected.answer);
        expect(q.chain.endsWith(`${ANSWER_MARKER} ${expected.answer} .`)).toBe(true);
        if (expected.selected) {
          const step = rest[0]!;
          const named = [...step.matchAll(/the (small|large) (\w+) (\w+)/g)].map((x) => `${x[1]} ${x[2]} ${x[3]}`);
          expect(named).toEqual(expected.selected);
          if (expected.selected.length === 0) expect(step).toMatch(/^none of them is/);
        }
        if (q.type === 'spatial') {
          for (const x of q.chain.matchAll(/the (\w+) (\w+) is at the (\w+ \w+)/g)) expect(scene.objects.find((o) => o.color === x[1] && o.shape === x[2])!.cell).toBe(x[3]);
        }
      }
    }
    expect([...seen].sort()).toEqual(['color', 'count', 'spatial']);
  });

  it('asks for the chain with the step-by-step prompt, and draws only from its rng', () => {
    expect(withReasoningPrompt('how many objects are there ?')).toBe(`how many objects are there ? ${REASONING_PROMPT}`);
    const scene = generateScene(new Rng(1), 'x');
    expect(reasoningQuestions(scene, new Rng(5))).toEqual(reasoningQuestions(scene, new Rng(5)));
  });

  it('the corpus holds every word of every question and chain', () => {
    const rng = new Rng(8);
    const scenes = Array.from({ length: 20 }, (_, i) => generateScene(rng, `c${i}`));
    const words = new Set(reasoningCorpus(scenes.slice(0, 2), new Rng(0)).flatMap((t) => t.split(' ')));
    for (const scene of scenes)
      for (const q of reasoningQuestions(scene, rng)) for (const w of `${withReasoningPrompt(q.question)} ${q.chain}`.split(' ')) expect(words).toContain(w);
  });
});
