import { describe, expect, it } from 'vitest';
import { Rng } from '@mllm/core';
import { GENERAL_TEXT_FAMILIES, generalText, generalTextCorpus } from './general-text';
import { CLOSED_TASKS, PHRASINGS } from './instruction-phrasings';
import { ShapesWorld } from './shapes-world';
import { caption, detailedDescription, holds, type Relation } from './language';
import { closedSetQuestions } from './closed-set';
import { categoryOf } from './scene';
import type { Scene } from './scene';

const world = new ShapesWorld({ seed: 0, imageSize: 32, sizes: { train: 300, val: 1, test: 1 } });
const scenes = world.scenes('train');
const words = (texts: readonly string[]) => new Set(texts.flatMap((t) => t.split(/\s+/)).filter(Boolean));
const sentences = (text: string) => text.split(/(?<= \.) /);

describe('generalText', () => {
  it('with the world pre-training text, uses every word of every closed-task phrasing', () => {
    const rng = new Rng(1);
    const known = words([
      ...scenes.flatMap((s) => [caption(s), detailedDescription(s), ...closedSetQuestions(s, rng).map((q) => `${q.question} ${q.answer}`)]),
      ...scenes.map((s) => generalText(s, rng)),
    ]);
    const phrasingWords = words(CLOSED_TASKS.flatMap((t) => PHRASINGS[t].map((p) => p.replace(/\{[a-z]+\}/g, ' '))));
    expect([...phrasingWords].filter((w) => !known.has(w))).toEqual([]);
    // the tokenizer's corpus holds every word that the statements can use
    const corpus = words(generalTextCorpus(scenes.slice(0, 64), new Rng(2)));
    expect([...words(scenes.map((s) => generalText(s, rng)))].filter((w) => !corpus.has(w))).toEqual([]);
  });

  it('never asks a question and never contains an instruction phrasing of any task', () => {
    const rng = new Rng(3);
    const statements = scenes.flatMap((s) => sentences(generalText(s, rng, 6)));
    expect(statements.filter((s) => s.includes('?'))).toEqual([]);
    for (const template of Object.values(PHRASINGS).flat()) {
      // a slot is filled by a few words, never across a sentence's end
      const pattern = new RegExp(template.replace(/[.?]/g, '\\$&').replace(/\{[a-z]+\}/g, '[^.?]+'));
      expect(statements.filter((s) => pattern.test(s)), template).toEqual([]);
    }
  });

  it('states only what holds in the scene', () => {
    const rng = new Rng(4);
    const checked = { count: 0, colour: 0, size: 0, position: 0, relation: 0 };
    const named = (s: Scene, category: string) => s.objects.filter((o) => categoryOf(o) === category);
    for (const scene of scenes) {
      for (const sentence of sentences(generalText(scene, rng, 6))) {
        let m: RegExpExecArray | null;
        if ((m = /^(?:the (?:image|picture) shows|this (?:image|picture) contains|we count|you can see) (\w+) /.exec(sentence))) {
          expect(m[1], sentence).toBe(['zero', 'one', 'two', 'three', 'four'][scene.objects.length]);
          checked.count++;
        } else if ((m = /^the colou?r of the (\w+) is (\w+) \.$/.exec(sentence))) {
          expect(scene.objects.filter((o) => o.shape === m![1]).map((o) => o.color), sentence).toEqual([m[2]]);
          checked.colour++;
        } else if ((m = /^the size of the (\w+ \w+) is (\w+) \.$/.exec(sentence))) {
          expect(named(scene, m[1]!).map((o) => o.size), sentence).toEqual([m[2]]);
          checked.size++;
        } else if ((m = /^you can find the (\w+ \w+) at the (\w+ \w+) \.$/.exec(sentence))) {
          expect(named(scene, m[1]!).map((o) => o.cell), sentence).toEqual([m[2]]);
          checked.position++;
        } else if ((m = /^(it is not true that )?the (\w+ \w+) is (left of|right of|above|below) the (\w+ \w+) \.$/.exec(sentence))) {
          const [a] = named(scene, m[2]!);
          const [b] = named(scene, m[4]!);
          expect(holds(a!, m[3] as Relation, b!), sentence).toBe(!m[1]);
          checked.relation++;
        }
      }
    }
    for (const [kind, n] of Object.entries(checked)) expect(n, kind).toBeGreaterThan(10);
  });

  it('is the same text for the same draws, and has one family per kind of instruction', () => {
    expect(generalText(scenes[5]!, new Rng(9))).toBe(generalText(scenes[5]!, new Rng(9)));
    expect(Object.keys(GENERAL_TEXT_FAMILIES).sort()).toEqual(['colour', 'count', 'existence', 'position', 'shape', 'size', 'spatial']);
    expect(sentences(generalText(scenes[5]!, new Rng(9), 4))).toHaveLength(4);
  });
});
