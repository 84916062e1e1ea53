import { describe, expect, it } from 'vitest';
import { Rng } from '@mllm/core';
import { ShapesWorld } from './shapes-world';
import { PHRASINGS, type InstructionTask } from './instruction-phrasings';
import { PromptPlan } from './prompt-plan';
import { PROMPTED_KINDS, plannedKind, promptedSample } from './prompted-samples';
import { parseInstruction, sceneAnswer } from './instruction-parse';
import { captionSample } from './llava';
import { templatesOf } from './instruction-templates.test-helper';

const world = new ShapesWorld({ seed: 2, sizes: { train: 200, val: 1, test: 1 } });

/** Every human turn of `draws` samples of each kind, with its scene and the reply. */
function turns(plan: PromptPlan, draws: number) {
  const rng = new Rng(9);
  const out: { sceneId: string; question: string; reply: string }[] = [];
  for (let i = 0; i < draws; i++)
    for (const kind of PROMPTED_KINDS) {
      const scene = rng.pick(world.scenes('train'));
      const c = promptedSample(scene, rng, kind, plan).conversations;
      for (let k = 0; k < c.length; k += 2) out.push({ sceneId: scene.id, question: c[k]!.value.replace('<image>\n', ''), reply: c[k + 1]!.value });
    }
  return out;
}

describe('promptedSample', () => {
  it('never asks a held-out phrasing or a held-out task, and answers as the scene does', () => {
    const plan = new PromptPlan({ seed: 4, heldOutPhrasings: 3, heldInTasks: ['existence', 'color', 'count', 'spatial', 'shape', 'caption', 'detail'], heldOutTasks: ['size', 'position', 'color-count'] });
    const heldOut = new Set((Object.keys(PHRASINGS) as InstructionTask[]).flatMap((t) => plan.heldOutPhrasings(t)));
    const asked = new Set<string>();
    for (const { sceneId, question, reply } of turns(plan, 400)) {
      const parsed = parseInstruction(question)!;
      expect(plan.isHeldIn(parsed.task), question).toBe(true);
      const templates = templatesOf(question, parsed.task);
      expect(templates, question).toHaveLength(1);
      expect(heldOut.has(templates[0]!), `held-out phrasing trained: ${question}`).toBe(false);
      asked.add(templates[0]!);
      if (parsed.task !== 'caption' && parsed.task !== 'detail') expect(sceneAnswer(world.scene(sceneId), parsed)).toBe(reply);
    }
    // and it does use the variety: every trained phrasing of every held-in task turns up
    const trained = plan.heldInTasks.flatMap((t) => plan.trainedPhrasings(t));
    expect(trained.filter((t) => !asked.has(t))).toEqual([]);
  });

  it('with one phrasing asks only the canonical ones, captions as captionSample does', () => {
    const plan = new PromptPlan({ seed: 4, phrasings: 'one' });
    for (const { question } of turns(plan, 200)) {
      const parsed = parseInstruction(question)!;
      expect(plan.trainedPhrasings(parsed.task)).toContain(templatesOf(question, parsed.task)[0]);
    }
    const scene = world.scenes('train')[0]!;
    expect(promptedSample(scene, new Rng(0), 'caption', plan)).toEqual(captionSample(scene));
  });

  it('fills a batch kind whose tasks are all held out with a held-in kind', () => {
    const narrow = new PromptPlan({ seed: 0, heldInTasks: ['existence', 'detail'], heldOutTasks: ['count'] });
    expect(plannedKind('qa', narrow)).toBe('existence');
    expect(plannedKind('caption', narrow)).toBe('existence');
    expect(plannedKind('detail', narrow)).toBe('detail');
    const spatialOnly = new PromptPlan({ seed: 0, heldInTasks: ['spatial', 'count'], heldOutTasks: ['size'] });
    const single = world.scenes('train').find((s) => s.objects.length === 1)!;
    // one object: no relation to ask, so the conversation asks the count, a task every scene answers
    const [human, reply] = promptedSample(single, new Rng(0), 'qa', spatialOnly).conversations;
    expect(parseInstruction(human!.value.replace('<image>\n', ''))?.task).toBe('count');
    expect(reply!.value).toBe('one');
  });
});
