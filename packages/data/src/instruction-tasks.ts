import type { Rng } from '@mllm/core';
import { ALL_CATEGORIES, COLORS, categoryOf, sceneCategories } from './scene';
import type { Scene, SceneObject } from './scene';
import { NUMBER_WORDS, RELATIONS, caption, detailedDescription, holds } from './language';
import type { InstructionTask } from './instruction-phrasings';

/** What an instruction asks before it is phrased: the task, its slot values and the answer the scene gives. */
export interface TaskQuery {
  task: InstructionTask;
  slots: Record<string, string>;
  answer: string;
}

/** Objects whose category occurs once in the scene, so "the red circle" names exactly one of them. */
export function namedObjects(scene: Scene): SceneObject[] {
  return scene.objects.filter((o) => scene.objects.filter((p) => categoryOf(p) === categoryOf(o)).length === 1);
}

/**
 * The queries a task can ask of a scene, drawn with `rng`; none when the scene cannot answer it
 * (no shape appears once, fewer than two named objects for a relation). Existence is balanced
 * yes / no, and half of the absent categories share a colour or a shape with a present object
 * (POPE's adversarial near misses); spatial gives one true and one false relation; colour
 * counts ask about a present colour three times in four.
 */
export function taskQueries(scene: Scene, task: InstructionTask, rng: Rng): TaskQuery[] {
  const q = (slots: Record<string, string>, answer: string): TaskQuery => ({ task, slots, answer });
  const named = namedObjects(scene);
  switch (task) {
    case 'existence': {
      const present = sceneCategories(scene);
      const absent = ALL_CATEGORIES.filter((c) => !present.includes(c));
      const nearMiss = absent.filter((c) => scene.objects.some((o) => c.startsWith(`${o.color} `) || c.endsWith(` ${o.shape}`)));
      const no = nearMiss.length > 0 && rng.next() < 0.5 ? rng.pick(nearMiss) : rng.pick(absent);
      return [q({ object: rng.pick(present) }, 'yes'), q({ object: no }, 'no')];
    }
    case 'color':
      return scene.objects.filter((o) => scene.objects.filter((p) => p.shape === o.shape).length === 1).map((o) => q({ shape: o.shape }, o.color));
    case 'shape':
      return scene.objects.filter((o) => scene.objects.filter((p) => p.color === o.color).length === 1).map((o) => q({ color: o.color }, o.shape));
    case 'count':
      return [q({}, NUMBER_WORDS[scene.objects.length]!)];
    case 'color-count': {
      const present = [...new Set(scene.objects.map((o) => o.color))];
      const color = rng.next() < 0.75 ? rng.pick(present) : rng.pick(COLORS);
      return [q({ color }, NUMBER_WORDS[scene.objects.filter((o) => o.color === color).length]!)];
    }
    case 'size':
      return named.map((o) => q({ object: categoryOf(o) }, o.size));
    case 'position':
      return named.map((o) => q({ object: categoryOf(o) }, o.cell));
    case 'spatial': {
      if (named.length < 2) return [];
      const relation = (a: SceneObject, b: SceneObject, truth: boolean): TaskQuery => {
        const r = rng.pick(RELATIONS.filter((x) => holds(a, x, b) === truth));
        return q({ a: categoryOf(a), relation: r, b: categoryOf(b) }, truth ? 'yes' : 'no');
      };
      const [a1, b1] = rng.shuffle(named);
      const [a2, b2] = rng.shuffle(named);
      return [relation(a1!, b1!, true), relation(a2!, b2!, false)];
    }
    case 'caption':
      return [q({}, caption(scene))];
    case 'detail':
      return [q({}, detailedDescription(scene))];
  }
}
