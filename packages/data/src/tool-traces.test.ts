import { describe, expect, it } from 'vitest';
import { Rng } from '@mllm/core';
import { ShapesWorld } from './shapes-world';
import { holds, NUMBER_WORDS, RELATIONS } from './language';
import { categoryOf } from './scene';
import { toolCorpus, toolQuestions, toolTraceSample, toolTraceTurns } from './tool-traces';

const world = new ShapesWorld({ seed: 3, imageSize: 32, sizes: { train: 200, val: 10, test: 10 } });

describe('tool-use traces from the ground truth', () => {
  it('answers every question as the scene says, through calls whose results the answer follows from', () => {
    const rng = new Rng(1);
    let spatial = 0;
    for (const scene of world.scenes('train')) {
      for (const q of toolQuestions(scene, rng)) {
        const results = q.steps.map((s) => s.result.replace(/^result /, ''));
        expect(q.steps.every((s) => s.call.startsWith('call '))).toBe(true);
        if (q.type === 'spatial') {
          spatial++;
          const m = /^is the (\w+ \w+) (left of|right of|above|below) the (\w+ \w+) \?$/.exec(q.question)!;
          const [a, b] = [m[1], m[3]].map((c) => scene.objects.find((o) => categoryOf(o) === c)!);
          const truth = holds(a!, RELATIONS.find((r) => r === m[2])!, b!);
          expect(q.answer).toBe(truth ? 'yes' : 'no');
          expect(q.steps[0]!.call).toBe(`call compare ${m[1]} ${m[2]} ${m[3]}`);
          expect(results).toEqual([String(truth)]);
        }
        if (q.type === 'count') expect(q.answer).toBe(NUMBER_WORDS[Number(results[0])]);
        if (q.type === 'existence') expect(q.answer).toBe(Number(results[0]) > 0 ? 'yes' : 'no');
        if (q.type === 'color') expect(results[0]).toContain(`${q.answer} ${q.question.split(' ')[4]}`);
        if (q.type === 'more') {
          expect(q.steps).toHaveLength(2);
          expect(q.answer).toBe(Number(results[0]) > Number(results[1]) ? 'yes' : 'no');
        }
      }
    }
    expect(spatial).toBeGreaterThan(50);
  });

  it('writes a trace as alternating turns: question with the image, call, result, ..., answer', () => {
    const sample = toolTraceSample(world.scenes('train')[0]!, new Rng(2));
    const turns = sample.conversations;
    expect(turns[0]!.value.startsWith('<image>\n')).toBe(true);
    expect(turns.map((t) => t.from)).toEqual(turns.map((_, i) => (i % 2 === 0 ? 'human' : 'gpt')));
    expect(turns.at(-1)!.from).toBe('gpt');
    expect(turns.at(-1)!.value.startsWith('call')).toBe(false);
  });

  it('toolCorpus holds every word a trace or an error uses', () => {
    const words = new Set(toolCorpus(world.scenes('train'), new Rng(4)).join(' ').split(/\s+/));
    for (const scene of world.scenes('test'))
      for (const q of toolQuestions(scene, new Rng(5)))
        for (const turn of toolTraceTurns(q, false)) for (const w of turn.value.split(' ')) expect(words.has(w), w).toBe(true);
    for (const w of ['error', 'unknown', 'tool', 'found']) expect(words.has(w)).toBe(true);
  });
});
