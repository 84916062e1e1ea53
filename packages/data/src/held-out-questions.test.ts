import { describe, expect, it } from 'vitest';
import { Rng } from '@mllm/core';
import { ShapesWorld } from './shapes-world';
import { PromptPlan } from './prompt-plan';
import { heldOutQuestions } from './held-out-questions';
import { parseInstruction, sceneAnswer } from './instruction-parse';
import { templatesOf } from './instruction-templates.test-helper';

const world = new ShapesWorld({ seed: 6, sizes: { train: 1, val: 1, test: 80 } });
const scenes = world.scenes('test');
const options = { seed: 6, heldOutPhrasings: 2, heldInTasks: ['existence', 'count', 'color', 'spatial', 'caption'] as const, heldOutTasks: ['size', 'color-count'] as const };
const many = new PromptPlan({ ...options, phrasings: 'many', heldInTasks: [...options.heldInTasks], heldOutTasks: [...options.heldOutTasks] });
const one = new PromptPlan({ ...options, phrasings: 'one', heldInTasks: [...options.heldInTasks], heldOutTasks: [...options.heldOutTasks] });

describe('heldOutQuestions', () => {
  const questions = heldOutQuestions(scenes, many, new Rng(1));

  it('asks each held-in question in a trained and a held-out phrasing, held-out tasks in trained ones, answered as the scene does', () => {
    for (const q of questions) {
      const parsed = parseInstruction(q.question)!;
      expect(parsed.task).toBe(q.task);
      expect(sceneAnswer(world.scene(q.sceneId), parsed)).toBe(q.answer);
      const template = templatesOf(q.question, q.task)[0]!;
      const list = q.phrasingSplit === 'heldOut' ? many.heldOutPhrasings(q.task) : many.trainedPhrasings(q.task);
      expect(list, q.question).toContain(template);
      expect(q.taskSplit).toBe(many.isHeldIn(q.task) ? 'heldIn' : 'heldOut');
    }
    const heldIn = questions.filter((q) => q.taskSplit === 'heldIn');
    expect(heldIn.filter((q) => q.phrasingSplit === 'heldOut').length).toBe(heldIn.length / 2);
    expect(questions.filter((q) => q.taskSplit === 'heldOut' && q.phrasingSplit === 'heldOut')).toEqual([]);
    expect(new Set(questions.map((q) => q.task))).toEqual(new Set(['existence', 'count', 'color', 'spatial', 'size', 'color-count']));
  });

  it('is the same set for the same seed, and differs between one and many only in the trained phrasing', () => {
    expect(heldOutQuestions(scenes, many, new Rng(1))).toEqual(questions);
    const single = heldOutQuestions(scenes, one, new Rng(1));
    expect(single.map(({ question: _, ...rest }) => rest)).toEqual(questions.map(({ question: _, ...rest }) => rest));
    expect(single.filter((q) => q.phrasingSplit === 'heldOut')).toEqual(questions.filter((q) => q.phrasingSplit === 'heldOut'));
    for (const q of single.filter((x) => x.phrasingSplit === 'heldIn')) expect(one.trainedPhrasings(q.task)).toContain(templatesOf(q.question, q.task)[0]);
  });
});
