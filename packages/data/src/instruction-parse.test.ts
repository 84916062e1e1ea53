import { describe, expect, it } from 'vitest';
import { Rng } from '@mllm/core';
import { ShapesWorld } from './shapes-world';
import { INSTRUCTION_TASKS, PHRASINGS, fillTemplate } from './instruction-phrasings';
import { taskQueries } from './instruction-tasks';
import { Unanswerable, parseInstruction, sceneAnswer } from './instruction-parse';
import type { Scene } from './scene';

const world = new ShapesWorld({ seed: 5, sizes: { train: 200, val: 1, test: 1 } });

describe('parseInstruction', () => {
  it('reads every phrasing of every task back to its task and slots', () => {
    const rng = new Rng(1);
    let checked = 0;
    for (const scene of world.scenes('train').slice(0, 60)) {
      for (const task of INSTRUCTION_TASKS) {
        for (const query of taskQueries(scene, task, rng)) {
          for (const template of PHRASINGS[task]) {
            const text = fillTemplate(template, query.slots);
            expect(parseInstruction(text), text).toEqual({ task, slots: query.slots });
            checked++;
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(3000);
  });

  it('finds no single reading in text without one', () => {
    for (const text of ['hello there .', 'is the red circle bigger than the blue square ?', 'how many red circles and blue crosses ?', 'what color is it ?', 'is the red circle left of the blue square above the green cross ?'])
      expect(parseInstruction(text), text).toBeUndefined();
  });
});

describe('sceneAnswer', () => {
  const scene: Scene = {
    id: 'fixture',
    objects: [
      { shape: 'circle', color: 'red', size: 'large', cell: 'top left', x: 8, y: 8 },
      { shape: 'circle', color: 'blue', size: 'small', cell: 'top right', x: 24, y: 8 },
      { shape: 'square', color: 'red', size: 'small', cell: 'bottom right', x: 24, y: 24 },
    ],
  };
  const ask = (text: string) => sceneAnswer(scene, parseInstruction(text)!);

  it('answers from the annotations, as written out by hand for a fixture scene', () => {
    expect(ask('can you see a blue circle ?')).toBe('yes');
    expect(ask('is there a blue square in the image ?')).toBe('no');
    expect(ask('how many objects are there ?')).toBe('three');
    expect(ask('how many red objects are there ?')).toBe('two');
    expect(ask('how many yellow objects are there ?')).toBe('zero');
    expect(ask('what color is the square ?')).toBe('red');
    expect(ask('what shape is the blue object ?')).toBe('circle');
    expect(ask('how big is the red circle ?')).toBe('large');
    expect(ask('where is the red square ?')).toBe('bottom right');
    expect(ask('is the red circle above the red square ?')).toBe('yes');
    expect(ask('is the blue circle left of the red circle ?')).toBe('no');
  });

  it('says why an instruction about an absent or ambiguous object has no answer', () => {
    expect(ask('what color is the circle ?')).toEqual(new Unanswerable('more than one circle in the scene'));
    expect(ask('what shape is the red object ?')).toBeInstanceOf(Unanswerable);
    expect(ask('where is the green cross ?')).toEqual(new Unanswerable('no green cross in the scene'));
    expect(ask('is the red circle left of the red circle ?')).toBeInstanceOf(Unanswerable);
  });

  it('agrees with the answers the task generator computes, on 200 scenes', () => {
    const rng = new Rng(2);
    for (const scene of world.scenes('train'))
      for (const task of INSTRUCTION_TASKS)
        for (const q of taskQueries(scene, task, rng)) expect(sceneAnswer(scene, { task, slots: q.slots })).toBe(q.answer);
  });
});
