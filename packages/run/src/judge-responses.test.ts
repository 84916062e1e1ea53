import { describe, expect, it } from 'vitest';
import { Rng } from '@mllm/core';
import { ShapesWorld, checkDescription, detailedDescription, type Scene } from '@mllm/data';
import { exactVerdict } from './judge-exact';
import { judgeResponses, modelResponse } from './judge-responses';

const world = new ShapesWorld({ seed: 3, imageSize: 32, sizes: { train: 300, val: 10, test: 60 } });
const scene: Scene = {
  id: 's',
  objects: [
    { shape: 'circle', color: 'red', size: 'small', cell: 'top left', x: 8, y: 8 },
    { shape: 'square', color: 'blue', size: 'large', cell: 'bottom right', x: 24, y: 24 },
  ],
};

describe('exactVerdict', () => {
  it('finds nothing wrong in any ground-truth description', () => {
    for (const s of world.scenes('train')) expect(exactVerdict(s, detailedDescription(s))).toEqual({ hallucinates: false, score: 10 });
  });

  it('flags each kind of error, and only an error', () => {
    const truth = detailedDescription(scene);
    expect(exactVerdict(scene, truth.replace('small red circle is at', 'small green circle is at')).hallucinates).toBe(true); // colour
    expect(exactVerdict(scene, truth.replace('a small red circle is', 'a large red circle is')).hallucinates).toBe(true); // size
    expect(exactVerdict(scene, truth.replace('two objects', 'three objects')).hallucinates).toBe(true); // count
    expect(exactVerdict(scene, truth.replace('is left of', 'is right of')).hallucinates).toBe(true); // relation
    expect(exactVerdict(scene, 'there are two objects in the image . a large blue square is at the top left .')).toMatchObject({ hallucinates: true }); // position
    // saying less is not hallucinating; a relation between two names of one object is (FaithScore finds no pair)
    expect(exactVerdict(scene, 'there are two objects in the image . a large blue square is at the bottom right .')).toEqual({ hallucinates: false, score: 10 });
    expect(exactVerdict(scene, 'the large blue square is left of the large blue square .').hallucinates).toBe(true);
    expect(exactVerdict(scene, 'hello')).toEqual({ hallucinates: false });
  });
});

describe('judgeResponses', () => {
  const responses = judgeResponses(world.scenes('train'), 3, new Rng(1));

  it('labels every response with the exact checker, whatever was injected', () => {
    for (const r of responses) {
      const s = world.scene(r.sceneId);
      expect(r.reference).toBe(detailedDescription(s));
      expect(r.hallucinates).toBe(exactVerdict(s, r.response).hallucinates);
    }
    // an edit can cancel out (a swap of two objects that read alike), so the recipe is not the label
    const edited = responses.filter((r) => r.edits.length > 0);
    expect(edited.some((r) => !r.hallucinates)).toBe(true);
  });

  it('is balanced enough that "always yes" or "always no" scores near chance, with every kind of edit', () => {
    const share = responses.filter((r) => r.hallucinates).length / responses.length;
    expect(share).toBeGreaterThan(0.35);
    expect(share).toBeLessThan(0.65);
    const kinds = new Set(responses.flatMap((r) => r.edits));
    expect([...kinds].sort()).toEqual(['absent-object', 'added-object', 'color', 'count', 'position', 'relation', 'size']);
    // the detail checker sees existence, attribute and relationship errors among them
    const kindsSeen = responses.map((r) => checkDescription(world.scene(r.sceneId), r.response));
    for (const k of ['existence', 'attribute', 'relationship'] as const) expect(kindsSeen.some((c) => c[k] > 0)).toBe(true);
  });

  it('repeats for a seed and labels a model output the same way', () => {
    expect(judgeResponses(world.scenes('train').slice(0, 5), 2, new Rng(9))).toEqual(judgeResponses(world.scenes('train').slice(0, 5), 2, new Rng(9)));
    const r = modelResponse(scene, 'there are two objects in the image . a large red circle is at the top left .');
    expect(r).toMatchObject({ hallucinates: true, edits: [], reference: detailedDescription(scene) });
  });
});
