import { describe, it, expect } from 'vitest';
import { Rng } from '@mllm/core';
import { detailedDescription, preferencePairs } from '@mllm/data';
import { ERROR_WEIGHT, judgeAnswer, judgementScore, sampledPreferencePairs } from './sampled-pairs';
import { StageData } from './stage-data';
import { runStage } from './run-stage';
import { stageSchema } from './run-config';
import { make, tokenizer, world } from './tiny-run.test-helper';

const scene = world.scenes('train').find((s) => s.objects.length >= 2)!;

describe('judgeAnswer', () => {
  it("counts a faithful description's claims as facts and an injected existence error as an error", () => {
    const faithful = judgeAnswer(scene, { task: 'detail', chosen: '', kind: 'existence' }, detailedDescription(scene));
    expect(faithful.errors).toBe(0);
    expect(faithful.facts).toBeGreaterThanOrEqual(scene.objects.length);
    const pair = preferencePairs(scene, new Rng(3), { tasks: ['detail'], kinds: { existence: 1 } })[0]!;
    const wrong = judgeAnswer(scene, pair, pair.rejected);
    expect(wrong).toMatchObject({ errors: 1, kind: 'existence' });
    // the replaced object is no longer a fact (nor is a relation sentence naming it)
    expect(wrong.facts).toBeLessThan(faithful.facts);
    expect(judgementScore(faithful) - judgementScore(wrong)).toBeGreaterThanOrEqual(1 + ERROR_WEIGHT);
  });

  it('prefers leaving an object out to naming an absent one, and any full description to silence', () => {
    expect(judgementScore({ facts: 3, errors: 0 })).toBeGreaterThan(judgementScore({ facts: 3, errors: 1 }));
    expect(judgementScore({ facts: 4, errors: 1 })).toBeGreaterThan(judgementScore({ facts: 0, errors: 0 }));
  });

  it("judges a question's answer right only when it is the faithful answer", () => {
    const pair = preferencePairs(scene, new Rng(4), { tasks: ['question'], kinds: { existence: 1 } })[0]!;
    expect(judgeAnswer(scene, pair, pair.chosen)).toEqual({ facts: 1, errors: 0 });
    expect(judgeAnswer(scene, pair, pair.rejected)).toEqual({ facts: 0, errors: 1, kind: 'existence' });
  });
});

describe('sampledPreferencePairs', () => {
  it("pairs the policy's own answers, each chosen one judged better than its rejected one", () => {
    const data = new StageData(world, tokenizer, 5);
    const scenes = new Map(world.scenes('train').map((s) => [s.id, s]));
    const pairs = sampledPreferencePairs(make(), data, new Rng(6), 'train', 8, 'caption', { samples: 3, temperature: 1, maxNewTokens: 12 });
    // an untrained policy's samples differ: most prompts give a pair, never more than one each
    expect(pairs.length).toBeGreaterThan(0);
    expect(pairs.length).toBeLessThanOrEqual(8);
    for (const p of pairs) {
      const s = scenes.get(p.image)!;
      expect(judgementScore(judgeAnswer(s, p, p.chosen))).toBeGreaterThan(judgementScore(judgeAnswer(s, p, p.rejected)));
      expect(p.task).toBe('caption');
      expect(p.prompt).toContain('<image>');
    }
  });

  it('needs two answers per prompt', () => {
    expect(() => sampledPreferencePairs(make(), new StageData(world, tokenizer, 5), new Rng(6), 'train', 2, 'caption', { samples: 1, temperature: 1, maxNewTokens: 4 })).toThrow(/samples must be an integer >= 2/);
  });

  it('a reward stage with a sampled share trains on them and reports held-out accuracy on sampled pairs', async () => {
    const policy = make();
    const losses: number[] = [];
    const stage = stageSchema.parse({
      type: 'reward', steps: 6, batchSize: 4, lr: 0.01, warmup: 1, evalEvery: 0,
      tasks: { caption: 1, detail: 0, question: 0 }, kinds: { existence: 1, attribute: 0, relationship: 0 },
      sampled: { share: 1, samples: 3, maxNewTokens: 12 },
    });
    const result = await runStage(stage, 0, policy, new StageData(world, tokenizer, 5), { onStep: (e) => void losses.push(e.loss) }, undefined, { newModel: make });
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(result.heldOut!.sampledPairs).toBeGreaterThan(0);
    expect(result.heldOut!['rewardAccuracy.sampled']).toBeGreaterThanOrEqual(0);
    expect(result.heldOut!['rewardAccuracy.sampled']).toBeLessThanOrEqual(1);
  });

  it('a sampled share is checked by the config schema', () => {
    expect(stageSchema.safeParse({ type: 'reward', steps: 1, batchSize: 2, sampled: { share: 1.5 } }).success).toBe(false);
    expect(stageSchema.safeParse({ type: 'reward', steps: 1, batchSize: 2, sampled: { share: 0.5, samples: 1 } }).success).toBe(false);
  });
});
