import { describe, expect, it } from 'vitest';
import { COLORS, SHAPES } from '../../data/src/scene';
import type { Scene } from '../../data/src/scene';
import { chairMentions, groundTruthCategories, SHAPES_VOCABULARY } from './mentions';
import type { GroundTruthScene } from './mentions';

describe('chairMentions', () => {
  it('finds every adjacent colour-shape pair in order, duplicates kept', () => {
    expect(chairMentions('a red circle and a blue square and a red circle')).toEqual([
      'red circle',
      'blue square',
      'red circle',
    ]);
  });

  it('reads the Shapes world caption format (size before colour)', () => {
    const caption = 'a large red circle at the top left and a small blue cross at the bottom right .';
    expect(chairMentions(caption)).toEqual(['red circle', 'blue cross']);
  });

  it('ignores non-adjacent pairs and unknown words', () => {
    expect(chairMentions('a red large circle')).toEqual([]);
    expect(chairMentions('a purple circle and a red hexagon')).toEqual([]);
    expect(chairMentions('')).toEqual([]);
  });

  it('tolerates case, punctuation and plurals', () => {
    expect(chairMentions('Two Yellow Triangles. A green cross, blue crosses!')).toEqual([
      'yellow triangle',
      'green cross',
      'blue cross',
    ]);
  });

  it('uses a custom vocabulary when given one', () => {
    expect(chairMentions('a tall box and a red circle', { colors: ['tall'], shapes: ['box'] })).toEqual(['tall box']);
  });
});

describe('SHAPES_VOCABULARY', () => {
  it('matches the Shapes world contract in @mllm/data', () => {
    expect(SHAPES_VOCABULARY.colors).toEqual([...COLORS]);
    expect(SHAPES_VOCABULARY.shapes).toEqual([...SHAPES]);
  });

  it("accepts @mllm/data's Scene as a GroundTruthScene (checked by tsc)", () => {
    const scene: Scene = { id: 's', objects: [{ shape: 'cross', color: 'red', size: 'small', cell: 'top left', x: 8, y: 8 }] };
    const truth: GroundTruthScene = scene;
    expect([...groundTruthCategories(truth)]).toEqual(['red cross']);
  });
});

describe('groundTruthCategories', () => {
  it('collects distinct colour-shape categories', () => {
    const scene = {
      id: 's',
      objects: [
        { color: 'red', shape: 'circle' },
        { color: 'red', shape: 'circle' },
        { color: 'blue', shape: 'cross' },
      ],
    };
    expect([...groundTruthCategories(scene)].sort()).toEqual(['blue cross', 'red circle']);
  });
});
