import { describe, expect, it } from 'vitest';
import { Rng } from '@mllm/core';
import { caption, detailedDescription, holds, parseMentions } from './language';
import { generateScene } from './generate-scene';
import { categoryOf } from './scene';
import type { Scene, SceneObject } from './scene';

const o = (cell: SceneObject['cell'], color: SceneObject['color'], shape: SceneObject['shape'], size: SceneObject['size'] = 'large'): SceneObject => ({
  cell,
  color,
  shape,
  size,
  x: 0,
  y: 0,
});

const two: Scene = { id: 't', objects: [o('top left', 'red', 'circle'), o('bottom right', 'blue', 'square', 'small')] };

describe('caption and description', () => {
  it('writes the canonical caption', () => {
    expect(caption(two)).toBe('a large red circle at the top left and a small blue square at the bottom right .');
  });

  it('writes a detailed description with count, objects and one relation', () => {
    expect(detailedDescription(two)).toBe(
      'there are two objects in the image . a large red circle is at the top left . ' +
        'a small blue square is at the bottom right . the large red circle is left of the small blue square .',
    );
    const one: Scene = { id: 'o', objects: [o('bottom left', 'green', 'cross', 'small')] };
    expect(detailedDescription(one)).toBe('there is one object in the image . a small green cross is at the bottom left . it is the only object .');
    const column: Scene = { id: 'c', objects: [o('top right', 'yellow', 'triangle'), o('bottom right', 'red', 'cross')] };
    expect(detailedDescription(column)).toContain('the large yellow triangle is above the large red cross .');
  });

  it('parseMentions(caption(s)) lists the scene categories, for 200 scenes', () => {
    const rng = new Rng(11);
    for (let i = 0; i < 200; i++) {
      const s = generateScene(rng, `s${i}`);
      expect(parseMentions(caption(s))).toEqual(s.objects.map(categoryOf));
    }
  });

  it('parseMentions finds adjacent colour-shape pairs only', () => {
    expect(parseMentions('A Red circle, a blue big square and a green triangle? red.')).toEqual(['red circle', 'green triangle']);
  });
});

describe('holds (spatial rule)', () => {
  const tl = o('top left', 'red', 'circle');
  const tr = o('top right', 'red', 'circle');
  const bl = o('bottom left', 'red', 'circle');
  const br = o('bottom right', 'red', 'circle');
  it('uses cell column for left/right and row for above/below', () => {
    expect(holds(tl, 'left of', tr)).toBe(true);
    expect(holds(tl, 'left of', br)).toBe(true);
    expect(holds(tl, 'left of', bl)).toBe(false); // same column
    expect(holds(tr, 'right of', bl)).toBe(true);
    expect(holds(tl, 'above', bl)).toBe(true);
    expect(holds(tl, 'above', tr)).toBe(false); // same row
    expect(holds(br, 'below', tl)).toBe(true);
  });
});
