import { describe, it, expect } from 'vitest';
import { parseRunConfig } from '@mllm/training';
import { fillTemplate, parseInstruction, sceneAnswer } from '@mllm/data/internal';
import type { Answerer } from '@mllm/eval';
import { createRegistry } from './registry';
import { createSession, createWorld } from './session';
import { evaluateHeldOut, heldOutEvalSet, runPromptPlan } from './held-out-eval';
import { runReportMarkdown, dataReport } from './report';

// the word tokenizer: which words a run knows is what these tests look at (BPE knows every word)
const base = {
  tokenizer: { type: 'word' },
  encoder: { type: 'vit', imageSize: 16, patchSize: 8, dim: 16, layers: 2, heads: 2 },
  connector: { type: 'mlp' },
  llm: { type: 'causal', dim: 16, layers: 1, heads: 2 },
  data: { train: 20, val: 2, test: 30, instructions: { heldInTasks: ['existence', 'count', 'color', 'caption'], heldOutTasks: ['size', 'color-count'] } },
  stages: [{ type: 'instruct', steps: 1 }],
  eval: { scenes: 25, batchSize: 7 },
};
const config = parseRunConfig(base, createRegistry());
const world = createWorld(config);
const plan = runPromptPlan(config)!;

/** Answers from the scene's annotations, but only questions asked in a phrasing the run trained on. */
const templateReader: Answerer = {
  async answer(requests) {
    return requests.map(({ sceneId, prompt }) => {
      const parsed = parseInstruction(prompt)!;
      const trained = plan.trainedPhrasings(parsed.task).some((t) => fillTemplate(t, parsed.slots) === prompt);
      return trained ? String(sceneAnswer(world.scene(sceneId), parsed)) : 'unknown';
    });
  },
};

describe('evaluateHeldOut', () => {
  it("scores a model that only reads trained phrasings: held-out phrasings 0, everything asked in a trained one 1", async () => {
    const r = (await evaluateHeldOut(templateReader, world, config))!;
    expect(r.tasks).toEqual({ heldIn: 1, heldOut: 1 });
    expect(r.phrasings).toEqual({ heldIn: 1, heldOut: 0 });
    // counted on the test scenes by hand: existence and count for every scene, colour where a shape appears once
    const scenes = world.scenes('test').slice(0, 25);
    const colour = scenes.filter((s) => s.objects.some((o) => s.objects.filter((p) => p.shape === o.shape).length === 1)).length;
    const named = scenes.filter((s) => s.objects.some((o) => s.objects.filter((p) => p.shape === o.shape && p.color === o.color).length === 1)).length;
    expect(r.n).toEqual({ heldInTasks: 2 * scenes.length + colour, heldOutTasks: scenes.length + named, heldOutPhrasings: 2 * scenes.length + colour });
  });

  it('asks every question once, in batches of eval.batchSize, and is absent without data.instructions', async () => {
    const asked: number[] = [];
    const counter: Answerer = { answer: async (requests) => (asked.push(requests.length), requests.map(() => 'yes')) };
    const r = (await evaluateHeldOut(counter, world, config))!;
    const total = heldOutEvalSet(world, config, plan).length;
    expect(asked.reduce((a, b) => a + b, 0)).toBe(total);
    expect(Math.max(...asked)).toBe(7);
    const yes = heldOutEvalSet(world, config, plan).filter((q) => q.taskSplit === 'heldIn' && q.phrasingSplit === 'heldIn');
    expect(r.tasks.heldIn).toBeCloseTo(yes.filter((q) => q.answer === 'yes').length / yes.length);
    const { instructions: _, ...data } = base.data;
    expect(await evaluateHeldOut(counter, world, parseRunConfig({ ...base, data }, createRegistry()))).toBeUndefined();
  });

  it("teaches the run's tokenizer every phrasing's words, held-out ones too, and only with data.instructions", () => {
    const { tokenizer } = createSession(config);
    for (const q of heldOutEvalSet(world, config, plan)) expect(tokenizer.unknownWords(q.question)).toEqual([]);
    const { instructions: _, ...data } = base.data;
    expect(createSession(parseRunConfig({ ...base, data }, createRegistry())).tokenizer.unknownWords('in which part of the picture is it ?')).toContain('picture');
  });
});

describe('report.json data and report.md with self-instruction', () => {
  const stats = { seeds: 9, generated: 100, kept: 60, dropped: { unparseable: 5, 'held-out-task': 0, 'held-out-phrasing': 1, length: 2, 'unknown-words': 0, unanswerable: 12, 'wrong-answer': 18, 'exact-duplicate': 2, 'near-duplicate': 0 }, templates: 20, newTemplates: 7 };

  it('holds skipped records and self-instruction counts only when there are any', () => {
    expect(dataReport()).toEqual({});
    expect(dataReport(undefined, stats)).toEqual({ data: { selfInstruct: stats } });
    expect(dataReport({}, undefined)).toEqual({ data: { skipped: {} } });
  });

  it('renders the counts with their shares of what was written', () => {
    const md = runReportMarkdown({ backend: 'cpu', seed: 0, config: '', wallSeconds: 1, parameters: { total: 1, encoder: 0, connector: 0, llm: 1 }, connector: { type: 'mlp', kind: 'token-connector', tokensPerImage: 4, encoderTokens: 4 }, stages: [], data: { selfInstruct: stats } });
    expect(md).toContain('## Self-instructed data');
    expect(md).toContain('| kept | 60 | 60.0% |');
    expect(md).toContain('| dropped: wrong-answer | 18 | 18.0% |');
    expect(md).toContain('7 of them written by recombination');
  });
});
