import { describe, expect, it } from 'vitest';
import { Rng } from '@mllm/core';
import { checkDescription } from './description-check';
import type { DescriptionCheck } from './description-check';
import { HALLUCINATION_KINDS, preferencePairs } from './preference';
import type { PreferenceTask } from './preference';
import { caption, detailedDescription } from './language';
import type { Scene, SceneObject } from './scene';
import { ShapesWorld } from './shapes-world';

const world = new ShapesWorld({ seed: 21, sizes: { train: 1500, val: 0, test: 0 } });
const scenes = world.scenes('train');

const obj = (size: SceneObject['size'], color: SceneObject['color'], shape: SceneObject['shape'], cell: SceneObject['cell']): SceneObject => ({
  size,
  color,
  shape,
  cell,
  x: 0,
  y: 0,
});
/** small red circle top left, large blue square top right, small red circle bottom right. */
const scene: Scene = {
  id: 'hand',
  objects: [obj('small', 'red', 'circle', 'top left'), obj('large', 'blue', 'square', 'top right'), obj('small', 'red', 'circle', 'bottom right')],
};

const kinds = (c: DescriptionCheck) => ({ existence: c.existence, attribute: c.attribute, relationship: c.relationship });
const none = { existence: 0, attribute: 0, relationship: 0 };

describe('checkDescription', () => {
  it('finds no hallucination in the ground-truth description or caption of any scene', () => {
    expect(scenes.some((s) => s.objects.length === 4) && scenes.some((s) => s.objects.length === 1)).toBe(true);
    for (const s of scenes) {
      const check = checkDescription(s, detailedDescription(s));
      expect(kinds(check), detailedDescription(s)).toEqual(none);
      const relations = s.objects.length >= 2 ? 1 : 0;
      expect(check).toMatchObject({ claims: s.objects.length + relations, relations, falseRelations: 0 });
      expect(check.count).toEqual({ stated: s.objects.length, actual: s.objects.length });
      expect(check.objects.map((o) => o.referent)).toEqual(s.objects.map((_, i) => i));
      const fromCaption = checkDescription(s, caption(s));
      expect(kinds(fromCaption)).toEqual(none);
      expect(fromCaption.claims).toBe(s.objects.length);
    }
  });

  it('flags every rejected preference answer with exactly the kind injected (parity with preferencePairs)', () => {
    const rng = new Rng(5);
    const seen = new Set<string>();
    for (const s of scenes) {
      for (const kind of HALLUCINATION_KINDS) {
        for (const task of ['detail', 'caption'] as PreferenceTask[]) {
          const [pair] = preferencePairs(s, rng, { tasks: [task], kinds: { [kind]: 1 } });
          seen.add(`${task}/${pair!.kind}`);
          expect(kinds(checkDescription(s, pair!.chosen))).toEqual(none);
          const rejected = kinds(checkDescription(s, pair!.rejected));
          const others = HALLUCINATION_KINDS.filter((k) => k !== pair!.kind);
          // detail: one edit, one hallucinated claim; caption: swapping two objects misplaces both
          if (task === 'detail') expect(rejected[pair!.kind], pair!.rejected).toBe(1);
          else expect(rejected[pair!.kind], pair!.rejected).toBeGreaterThanOrEqual(1);
          for (const k of others) expect(rejected[k], `${pair!.kind} flagged as ${k}: ${pair!.rejected}`).toBe(0);
        }
      }
    }
    expect(seen.size).toBe(6);
  });

  it('classifies hand-written claims: correct, wrong cell, wrong attribute, absent object', () => {
    const text =
      'there are three objects in the image . a small red circle is at the top left . a blue square is at the top right . ' +
      'a large blue square is at the bottom left . a small green circle is at the bottom right . a small green cross is at the bottom left .';
    const c = checkDescription(scene, text);
    expect(c.objects.map((o) => o.verdict)).toEqual(['correct', 'correct', 'existence', 'attribute', 'existence']);
    expect(c.count).toEqual({ stated: 3, actual: 3 });
    // the large blue square is already described at the top right: a second one does not exist
    expect(kinds(c)).toEqual({ existence: 2, attribute: 1, relationship: 0 });

    const moved = checkDescription(scene, 'a large blue square is at the bottom left . a small red circle is at the top left .');
    expect(moved.objects.map((o) => [o.verdict, o.referent])).toEqual([
      ['relationship', 1],
      ['correct', 0],
    ]);
    // a red circle at an empty cell: the category exists, only at another size
    expect(checkDescription(scene, 'a large red circle is at the bottom left .').objects[0]!.verdict).toBe('attribute');
  });

  it('judges relation sentences by the objects the text introduced', () => {
    const intro = 'a small red circle is at the top left . a large blue square is at the top right . a small red circle is at the bottom right . ';
    const judge = (relation: string) => checkDescription(scene, intro + relation);
    expect(judge('the small red circle is left of the large blue square .')).toMatchObject({ relations: 1, falseRelations: 0, relationship: 0, claims: 4 });
    expect(judge('the small red circle is right of the large blue square .')).toMatchObject({ relations: 1, falseRelations: 1, relationship: 1 });
    // two names for the same description: the second is the next object introduced
    expect(judge('the small red circle is below the small red circle .').falseRelations).toBe(1);
    expect(judge('the red circle is left of the small red circle .').falseRelations).toBe(0);
    // an object the text never introduced resolves in the scene; a hallucinated one does not resolve
    expect(checkDescription(scene, 'the large blue square is right of the small red circle .')).toMatchObject({ claims: 1, relations: 1, falseRelations: 0 });
    const ghost = checkDescription(scene, 'a small green cross is at the bottom left . the small green cross is left of the large blue square .');
    expect(ghost).toMatchObject({ claims: 1, existence: 1, relations: 0, relationship: 0 });
    expect(ghost.relationChecks[0]!.verdict).toBe('unresolved');
  });

  it('forgives missing sizes, truncation and garbage', () => {
    const c = checkDescription(scene, 'there are three objects a red circle is at the top left . . blue square is at top right foo bar . the small red circle is left of the');
    expect(c.objects.map((o) => [o.verdict, o.cell])).toEqual([
      ['correct', 'top left'],
      ['correct', 'top right'],
    ]);
    expect(c).toMatchObject({ claims: 2, relations: 0, existence: 0 });
    expect(c.count).toBeUndefined(); // the count sentence runs into the next one
    // cut off before the cell: checked for existence and size only
    expect(checkDescription(scene, 'a large yellow cross is at the').objects).toEqual([{ size: 'large', color: 'yellow', shape: 'cross', verdict: 'existence' }]);
    expect(checkDescription(scene, 'a large red circle is at the top').objects[0]!.verdict).toBe('attribute');
    expect(checkDescription(scene, 'A small RED circle!').objects[0]).toMatchObject({ verdict: 'correct', referent: 0 });
    expect(checkDescription(scene, 'the small red circle is')).toMatchObject({ claims: 0, objects: [] });
  });

  it('never throws on malformed text', () => {
    const words = [...new Set(world.corpus().flatMap((t) => t.split(' ')))];
    const rng = new Rng(9);
    const texts = ['', ' ', '.', '???', 'ünïcode ✓ <image> <end>', 'is at the the the', 'there are nine objects in the image .'];
    for (let n = 0; n < 300; n++) texts.push(Array.from({ length: rng.int(40) }, () => rng.pick(words)).join(rng.next() < 0.5 ? ' ' : ''));
    for (const text of texts) {
      const c = checkDescription(scenes[0]!, text);
      expect(c.existence + c.attribute + c.relationship).toBeLessThanOrEqual(c.claims);
      expect(c.claims).toBe(c.objects.length + c.relations);
    }
  });
});
