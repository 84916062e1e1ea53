import { describe, it, expect } from 'vitest';
import { ConfigError } from '@mllm/core';
import { WordTokenizer } from '@mllm/tokenizer';
import { createComponentRegistry } from '@mllm/model';
import { fillTemplate, instructionCorpus, parseInstruction, sceneAnswer } from '@mllm/data/internal';
import { parseRunConfig } from './run-config';
import { StageData, pickStageKind } from './stage-data';
import { instructionsSchema, type InstructionsConfig } from './instructions-option';
import { world } from './tiny-run.test-helper';

const tokenizer = WordTokenizer.train([...world.corpus(), ...instructionCorpus()]);
const instructions = (c: Record<string, unknown>): InstructionsConfig => instructionsSchema.parse(c);

/** The human turns and replies of `steps` instruct batches, drawn as an instruct stage draws them. */
function batches(data: StageData, steps: number) {
  const out: { sceneId: string; question: string; reply: string }[] = [];
  for (let step = 0; step < steps; step++) {
    const rng = data.rngFor(3, step);
    const scenes = data.pickScenes(rng, 'train', 8);
    const kind = pickStageKind(rng, 0);
    for (const scene of scenes) {
      const sample = data.conversation('instruct', scene, rng, kind);
      expect(data.tokenize(sample).ids).not.toContain(tokenizer.special.unk);
      const c = sample.conversations;
      for (let k = 0; k < c.length; k += 2) out.push({ sceneId: scene.id, question: c[k]!.value.replace('<image>\n', ''), reply: c[k + 1]!.value });
    }
  }
  return out;
}

describe('data.instructions in instruct batches', () => {
  for (const source of ['templates', 'self-instruct'] as const) {
    it(`${source}: no batch asks a held-out phrasing or a held-out task, and every closed answer is the scene's`, () => {
      const config = instructions({ source, heldOutPhrasings: 3, heldInTasks: ['existence', 'color', 'count', 'spatial', 'shape', 'caption', 'detail'], heldOutTasks: ['size', 'position', 'color-count'] });
      const data = new StageData(world, tokenizer, 7, undefined, config);
      const plan = data.instructions!.plan;
      const seen = batches(data, 120);
      const tasks = new Set<string>();
      for (const { sceneId, question, reply } of seen) {
        const parsed = parseInstruction(question)!;
        expect(parsed, question).toBeDefined();
        tasks.add(parsed.task);
        expect(plan.isHeldIn(parsed.task), question).toBe(true);
        expect(plan.heldOutPhrasings(parsed.task).map((t) => fillTemplate(t, parsed.slots))).not.toContain(question);
        if (parsed.task !== 'caption' && parsed.task !== 'detail') expect(sceneAnswer(world.scene(sceneId), parsed)).toBe(reply);
      }
      expect(tasks).toEqual(new Set(plan.heldInTasks));
    });
  }

  it("text-only conversations (a mixture's text source, pretrain-llm's conversations) follow the plan too", () => {
    const data = new StageData(world, tokenizer, 7, undefined, instructions({ heldInTasks: ['existence', 'color', 'caption'], heldOutTasks: ['count', 'spatial'] }));
    for (let step = 0; step < 60; step++) {
      const rng = data.rngFor(1, step);
      const scene = data.pickScenes(rng, 'train', 1)[0]!;
      const text = tokenizer.decode(data.textConversation(scene, rng, pickStageKind(rng, 0)).ids);
      expect(text).not.toMatch(/how many|left of|right of|above|below/);
    }
  });

  it('without data.instructions draws exactly the batches it always did', () => {
    const before = new StageData(world, tokenizer, 7);
    expect(before.instructions).toBeUndefined();
    expect(batches(new StageData(world, tokenizer, 7, undefined, undefined), 20)).toEqual(batches(before, 20));
  });

  it('self-instruct counts what it wrote and dropped over the training scenes', () => {
    const data = new StageData(world, tokenizer, 7, undefined, instructions({ source: 'self-instruct' }));
    const stats = data.instructions!.selfInstructStats()!;
    expect(stats.generated).toBe(world.scenes('train').length * 4);
    expect(stats.kept).toBeGreaterThan(0);
    expect(stats.dropped['wrong-answer']).toBeGreaterThan(0);
    expect(new StageData(world, tokenizer, 7, undefined, instructions({})).instructions!.selfInstructStats()).toBeUndefined();
  });
});

describe('data.instructions config', () => {
  const config = (instructions: unknown) => ({
    encoder: { type: 'vit', imageSize: 16, patchSize: 8, dim: 16, layers: 1, heads: 2 },
    connector: { type: 'mlp' },
    llm: { type: 'causal', dim: 16, layers: 1, heads: 2 },
    data: { instructions },
    stages: [{ type: 'instruct', steps: 1 }],
  });
  const issues = (instructions: unknown) => {
    try {
      parseRunConfig(config(instructions), createComponentRegistry());
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      return (e as ConfigError).issues;
    }
    return [];
  };

  it('defaults to many phrasings, two held out, the six original tasks held in, position and size held out, templates', () => {
    const parsed = parseRunConfig(config({}), createComponentRegistry());
    expect(parsed.data.instructions).toMatchObject({ phrasings: 'many', heldOutPhrasings: 2, heldInTasks: ['existence', 'color', 'count', 'spatial', 'caption', 'detail'], heldOutTasks: ['position', 'size'], source: 'templates' });
    expect(parsed.data.instructions!.selfInstruct).toMatchObject({ seedsPerTask: 3, perScene: 4, teacherNoise: 0.2, filter: true });
  });

  it('general text takes its share of the LLM pre-training text; at share 0 the text is what a run without data.instructions trains on', () => {
    const textOf = (config?: InstructionsConfig) => {
      const data = new StageData(world, tokenizer, 5, undefined, config);
      return Array.from({ length: 200 }, (_, step) => {
        const rng = data.rngFor(1, step);
        return tokenizer.decode(data.text(data.pickScenes(rng, 'train', 1)[0]!, rng).ids.slice(1, -1));
      });
    };
    expect(textOf(instructions({ generalText: 0 }))).toEqual(textOf());
    const mixed = textOf(instructions({ generalText: 0.5 }));
    // general statements use words the world's own text never does ("picture", "colour", "count", ...)
    const general = mixed.filter((t) => /\b(picture|image shows|colou?r of|count|located|appear|visible|present)\b/.test(t) && !t.includes('?'));
    expect(general.length / mixed.length).toBeGreaterThan(0.35);
    expect(general.length / mixed.length).toBeLessThan(0.65);
    expect(textOf().filter((t) => /\b(picture|colour|located|appear|visible)\b/.test(t))).toEqual([]);
  });

  it.each([
    [{ phrasings: 'few' }, 'data.instructions.phrasings', /allowed: "one", "many"/],
    [{ heldOutPhrasings: 5 }, 'data.instructions.heldOutPhrasings', /<=\s*4/],
    [{ heldOutTasks: ['caption'] }, 'data.instructions.heldOutTasks[0]', /allowed: "existence"/],
    [{ heldOutTasks: ['count'] }, 'data.instructions.heldOutTasks[0]', /count is also in heldInTasks/],
    [{ heldInTasks: ['spatial', 'color'] }, 'data.instructions.heldInTasks', /hold in at least one task every scene answers/],
    [{ heldOutTasks: [] }, 'data.instructions.heldOutTasks', /at least one closed task/],
    [{ selfInstruct: { teacherNoise: 2 } }, 'data.instructions.selfInstruct.teacherNoise', /1/],
    [{ selfInstruct: { minInstructionWords: 9, maxInstructionWords: 4 } }, 'data.instructions.selfInstruct.maxInstructionWords', /minInstructionWords must be <= maxInstructionWords/],
    [{ source: 'gpt' }, 'data.instructions.source', /"templates", "self-instruct"/],
    [{ heldOut: 2 }, 'data.instructions', /unknown field\(s\) "heldOut"/],
  ])('%j is a ConfigError at %s', (bad, path, message) => {
    const found = issues(bad).find((i) => i.path === path);
    expect(found, JSON.stringify(issues(bad))).toBeDefined();
    expect(found!.message).toMatch(message);
  });
});
