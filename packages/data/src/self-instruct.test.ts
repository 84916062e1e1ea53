import { describe, expect, it } from 'vitest';
import { Rng } from '@mllm/core';
import { ShapesWorld } from './shapes-world';
import { PHRASINGS, type InstructionTask } from './instruction-phrasings';
import { PromptPlan } from './prompt-plan';
import { parseInstruction, sceneAnswer } from './instruction-parse';
import { SELF_INSTRUCT_DROPS, bigramOverlap, recombine, selfInstruct } from './self-instruct';

const world = new ShapesWorld({ seed: 11, sizes: { train: 300, val: 1, test: 1 } });
const scenes = world.scenes('train');
const plan = new PromptPlan({ seed: 11, heldInTasks: ['existence', 'color', 'count', 'spatial', 'shape', 'caption'], heldOutTasks: ['size', 'position'] });
const run = (options: Parameters<typeof selfInstruct>[3] = {}) => selfInstruct(scenes, plan, new Rng(7), options);

describe('recombine and bigramOverlap', () => {
  it("splices one template's head to another's tail at their shared first slot", () => {
    expect(recombine('where is the {object} ?', 'is there a {object} in the image ?')).toBe('where is the {object} in the image ?');
    expect(recombine('what color is the {shape} ?', 'is there a {object} in the image ?')).toBe('what color is the {shape} ?');
    expect(recombine('how many objects are there ?', 'count the objects .')).toBe('how many objects are there ?');
  });

  it('is the Jaccard overlap of word bigrams', () => {
    // bigrams: {how many, many objects, objects ?} and {how many, many objects, objects are, are there, there ?}: 2 shared of 6
    expect(bigramOverlap('how many objects ?', 'how many objects are there ?')).toBeCloseTo(2 / 6);
    expect(bigramOverlap('a b c', 'a b c')).toBe(1);
    expect(bigramOverlap('a b', 'c d')).toBe(0);
  });
});

describe('selfInstruct', () => {
  it('keeps only pairs whose answer the scene gives, about held-in tasks, in no held-out phrasing, without duplicates', () => {
    const { pairs, stats } = run();
    const heldOut = new Set((Object.keys(PHRASINGS) as InstructionTask[]).flatMap((t) => plan.heldOutPhrasings(t)));
    expect(pairs.length).toBe(stats.kept);
    expect(stats.kept + SELF_INSTRUCT_DROPS.reduce((n, d) => n + stats.dropped[d], 0)).toBe(stats.generated);
    expect(stats.generated).toBe(scenes.length * 4);
    const byScene = new Map<string, string[]>();
    for (const p of pairs) {
      const parsed = parseInstruction(p.instruction)!;
      expect(parsed, p.instruction).toBeDefined();
      expect(plan.isHeldIn(parsed.task)).toBe(true);
      expect(sceneAnswer(world.scene(p.sceneId), parsed)).toBe(p.response);
      expect(heldOut.has(p.template)).toBe(false);
      const seen = byScene.get(p.sceneId) ?? [];
      expect(seen).not.toContain(p.instruction);
      byScene.set(p.sceneId, [...seen, p.instruction]);
    }
    // the teacher recombines seeds into templates no task has, and the filter lets some through
    expect(stats.newTemplates).toBeGreaterThan(0);
    expect(stats.templates).toBeGreaterThan(stats.newTemplates);
  });

  it('drops the wrong answers the teacher writes: about the noise rate times the share it could answer', () => {
    const noisy = run({ teacherNoise: 0.5 }).stats;
    const clean = run({ teacherNoise: 0 }).stats;
    // a careful teacher is still wrong where a recombined instruction asks another task than its head's
    expect(clean.dropped['wrong-answer'] / clean.generated).toBeLessThan(0.1);
    const answerable = 1 - (clean.dropped.unparseable + clean.dropped.unanswerable) / clean.generated;
    expect((noisy.dropped['wrong-answer'] - clean.dropped['wrong-answer']) / noisy.generated).toBeCloseTo(0.5 * answerable, 1);
  });

  it('counts exact and near duplicates within a scene, and drops by length and unknown words', () => {
    const many = run({ perScene: 24, teacherNoise: 0 }).stats;
    expect(many.dropped['exact-duplicate']).toBeGreaterThan(0);
    expect(run({ perScene: 24, teacherNoise: 0, nearDuplicate: 0.3 }).stats.dropped['near-duplicate']).toBeGreaterThan(many.dropped['near-duplicate']);
    const short = run({ maxInstructionWords: 6 });
    expect(short.stats.dropped.length).toBeGreaterThan(0);
    for (const p of short.pairs) expect(p.instruction.split(' ').length).toBeLessThanOrEqual(6);
    const strict = run({ unknownWords: (text) => (text.includes('image') ? ['image'] : []) });
    expect(strict.stats.dropped['unknown-words']).toBeGreaterThan(0);
    expect(strict.pairs.some((p) => p.instruction.includes('image'))).toBe(false);
  });

  it('without the filter keeps every candidate but those of held-out tasks and phrasings, and still counts what it would drop', () => {
    const { pairs, stats } = run({ filter: false });
    expect(pairs.length).toBe(stats.generated - stats.dropped['held-out-task'] - stats.dropped['held-out-phrasing']);
    expect(stats.kept).toBe(pairs.length);
    expect(stats.dropped['wrong-answer']).toBe(run().stats.dropped['wrong-answer']);
    expect(pairs.some((p) => { const parsed = parseInstruction(p.instruction); return parsed !== undefined && sceneAnswer(world.scene(p.sceneId), parsed) !== p.response; })).toBe(true);
  });

  it('drops a recombination that rebuilds a held-out phrasing, filtered or not', () => {
    // the shipped phrasings never recombine into a held-out one; a plan holding out a reachable splice does
    const splice = 'can you see a {object} in the image ?';
    class ReachableHeldOut extends PromptPlan {
      override heldOutPhrasings(task: InstructionTask): string[] {
        return task === 'existence' ? [splice] : super.heldOutPhrasings(task);
      }
    }
    const reachable = new ReachableHeldOut({ seed: 11, heldInTasks: ['existence'], heldOutTasks: ['count'] });
    for (const filter of [true, false]) {
      const { pairs, stats } = selfInstruct(scenes, reachable, new Rng(7), { seedsPerTask: 6, filter });
      expect(stats.dropped['held-out-phrasing']).toBeGreaterThan(0);
      expect(pairs.filter((p) => p.template === splice)).toEqual([]);
    }
  });

  it('is deterministic in its stream, and writes nothing without a held-in closed task', () => {
    expect(run()).toEqual(run());
    const captionsOnly = new PromptPlan({ seed: 0, heldInTasks: ['caption'], heldOutTasks: ['count'] });
    expect(selfInstruct(scenes, captionsOnly, new Rng(1)).stats.generated).toBe(0);
  });
});
