import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '@mllm/core';
import { ShapesWorld } from '@mllm/data';
import { runStage } from './run-stage';
import { stageSchema } from './run-config';
import { StageData } from './stage-data';
import type { AlignmentContext } from './stage-objective';
import { whiten } from './ppo-stage';
import { RewardModel } from './reward-model';
import { batchLogProbs } from './preference-batch';
import { bradleyTerryLoss, dpoLoss } from './dpo-losses';
import { make, tokenizer, valuesOf as snapshot, world } from './tiny-run.test-helper';

const smallWorld = new ShapesWorld({ seed: 1, imageSize: 16, sizes: { train: 8, val: 4, test: 1 } });
const context = (): AlignmentContext => ({ newModel: make });
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('dpo stage', () => {
  it('starts at log 2, tunes the policy towards the chosen answers, and never moves the reference', async () => {
    const policy = make();
    const ctx = context();
    const before = snapshot(policy.namedParameters());
    const events: { loss: number; stats?: Record<string, number> }[] = [];
    let referenceAtStart: Record<string, number[]> | undefined;
    let referenceAtEnd: Record<string, number[]> | undefined;
    // 8 training scenes: an untrained model can learn their captions in a few dozen steps
    const stage = stageSchema.parse({ type: 'dpo', steps: 40, batchSize: 8, lr: 0.01, warmup: 2, beta: 0.5, tasks: { caption: 1, detail: 0, question: 0 }, checkpointEvery: 1, evalEvery: 0 });
    const result = await runStage(stage, 0, policy, new StageData(smallWorld, tokenizer, 3), {
      onStep: (e) => void events.push(e),
      onCheckpoint: async ({ step, extra }) => {
        const ref = snapshot(extra!.namedParameters());
        if (step === 1) referenceAtStart = ref;
        referenceAtEnd = ref;
      },
    }, undefined, ctx);
    expect(events[0]!.loss).toBeCloseTo(Math.log(2), 5); // policy == reference
    expect(events[0]!.stats!.margin).toBeCloseTo(0, 5);
    expect(mean(events.slice(-5).map((e) => e.loss))).toBeLessThan(0.9 * Math.log(2));
    expect(mean(events.slice(-5).map((e) => e.stats!.accuracy!))).toBeGreaterThan(0.6);
    expect(result.heldOut!.rewardAccuracy).toBeGreaterThanOrEqual(0);
    expect(result.heldOut!.rewardAccuracy).toBeLessThanOrEqual(1);
    expect(Object.keys(result.heldOut!)).toEqual(expect.arrayContaining(['rewardAccuracy.caption', 'rewardAccuracy.existence', 'margin']));
    // the reference is the policy as it was at the start, and stays so
    expect(Object.keys(referenceAtStart!).every((n) => n.startsWith('reference.'))).toBe(true);
    expect(referenceAtEnd).toEqual(referenceAtStart);
    const initial = Object.fromEntries(Object.entries(referenceAtStart!).map(([n, v]) => [n.slice('reference.'.length), v]));
    expect(initial).toEqual(before);
    // gradients reached the trained modules only
    const after = snapshot(policy.namedParameters());
    expect(Object.keys(after).filter((n) => n.startsWith('vision_tower') && after[n]!.some((v, i) => v !== before[n]![i]))).toEqual([]);
    expect(Object.keys(after).some((n) => n.startsWith('language_model') && after[n]!.some((v, i) => v !== before[n]![i]))).toBe(true);
  });

  it('is an error without an alignment context to copy the policy', async () => {
    const stage = stageSchema.parse({ type: 'dpo', steps: 1, batchSize: 2 });
    await expect(runStage(stage, 0, make(), new StageData(world, tokenizer, 3))).rejects.toThrow(/AlignmentContext/);
  });
});

describe('reward and ppo stages', () => {
  it('reward trains a copy with a scalar head (policy untouched); ppo then tunes policy and value head only', async () => {
    const policy = make();
    const ctx = context();
    const data = new StageData(world, tokenizer, 5);
    const before = snapshot(policy.namedParameters());
    const rewardLosses: number[] = [];
    const onlyExistence = { tasks: { caption: 1, detail: 0, question: 0 }, kinds: { existence: 1, attribute: 0, relationship: 0 } };
    const reward = await runStage(stageSchema.parse({ type: 'reward', steps: 40, batchSize: 8, lr: 0.01, warmup: 2, evalEvery: 0, ...onlyExistence }), 0, policy, data, { onStep: (e) => void rewardLosses.push(e.loss) }, undefined, ctx);
    expect(snapshot(policy.namedParameters())).toEqual(before);
    expect(ctx.rewardModel).toBeDefined();
    expect(reward.trainableParameters).toBe(ctx.rewardModel!.model.connector.numParameters() + ctx.rewardModel!.model.llm.numParameters() + ctx.rewardModel!.score.numParameters());
    expect(rewardLosses[0]).toBeCloseTo(Math.log(2), 1); // scores start near 0
    expect(mean(rewardLosses.slice(-5))).toBeLessThan(mean(rewardLosses.slice(0, 5)));
    expect(reward.heldOut?.rewardAccuracy).toBeDefined();
    expect(reward.heldOut?.['rewardAccuracy.existence']).toBeDefined(); // only existence pairs were asked for
    expect(reward.heldOut?.['rewardAccuracy.attribute']).toBeUndefined();

    const rewardBefore = snapshot(ctx.rewardModel!.namedParameters());
    const events: { stats?: Record<string, number> }[] = [];
    let extraStart: Record<string, number[]> | undefined;
    let extraEnd: Record<string, number[]> | undefined;
    const ppo = stageSchema.parse({ type: 'ppo', steps: 4, epochs: 2, batchSize: 4, lr: 0.003, warmup: 0, maxNewTokens: 6, checkpointEvery: 1, evalEvery: 0 });
    await runStage(ppo, 1, policy, data, {
      onStep: (e) => void events.push(e),
      onCheckpoint: async ({ step, extra }) => {
        const s = snapshot(extra!.namedParameters());
        if (step === 1) extraStart = s;
        extraEnd = s;
      },
    }, undefined, ctx);
    for (const e of events) for (const key of ['score', 'kl', 'klCoef', 'clipFraction', 'valueLoss', 'policyLoss']) expect(Number.isFinite(e.stats![key])).toBe(true);
    expect(events[0]!.stats!.kl).toBeCloseTo(0, 4); // first rollout: policy == reference
    const pick = (s: Record<string, number[]>, prefix: string) => Object.fromEntries(Object.entries(s).filter(([n]) => n.startsWith(prefix)));
    expect(pick(extraEnd!, 'reference.')).toEqual(pick(extraStart!, 'reference.'));
    expect(pick(extraEnd!, 'value_head.')).not.toEqual(pick(extraStart!, 'value_head.'));
    expect(snapshot(ctx.rewardModel!.namedParameters())).toEqual(rewardBefore);
    const after = snapshot(policy.namedParameters());
    expect(Object.keys(after).some((n) => n.startsWith('language_model') && after[n]!.some((v, i) => v !== before[n]![i]))).toBe(true);
  });

  it('ppo raises the reward it is given: a reward for one word makes the policy say it more', async () => {
    const word = tokenizer.encode('red')[0]!;
    // reward = share of the answer's tokens that are the word: dense enough for a few dozen rollouts
    const shareOfWord = {
      scores: (batch: { inputIds: number[][]; weights: number[][]; targets: number[][] }) =>
        tf.tensor1d(batch.weights.map((row, r) => {
          const answer = row.flatMap((w, t) => (w ? [batch.targets[r]![t]!] : []));
          return answer.filter((id) => id === word).length / Math.max(answer.length, 1);
        })),
    } as unknown as RewardModel;
    const events: { stats?: Record<string, number> }[] = [];
    const ppo = stageSchema.parse({ type: 'ppo', steps: 60, epochs: 2, batchSize: 8, lr: 0.01, warmup: 0, maxNewTokens: 6, klCoef: 0, tasks: { caption: 1, detail: 0, question: 0 }, evalEvery: 0 });
    await runStage(ppo, 0, make(), new StageData(world, tokenizer, 5), { onStep: (e) => void events.push(e) }, undefined, { newModel: make, rewardModel: shareOfWord });
    const scores = events.filter((_, i) => i % 2 === 0).map((e) => e.stats!.score!); // one per rollout
    expect(mean(scores.slice(-5))).toBeGreaterThan(mean(scores.slice(0, 5)) + 0.2);
  });

  it('ppo with token credit runs on a mean-pooled reward model and leaves it unchanged', async () => {
    const rm = new RewardModel(make(), new Rng(4), 'likelihood');
    const before = snapshot(rm.namedParameters());
    const events: { stats?: Record<string, number> }[] = [];
    const ppo = stageSchema.parse({ type: 'ppo', steps: 4, epochs: 2, batchSize: 4, lr: 0.001, warmup: 0, maxNewTokens: 6, credit: 'token', evalEvery: 0 });
    await runStage(ppo, 0, make(), new StageData(world, tokenizer, 5), { onStep: (e) => void events.push(e) }, undefined, { newModel: make, rewardModel: rm });
    expect(events).toHaveLength(4);
    for (const e of events) expect(Number.isFinite(e.stats!.score!)).toBe(true);
    expect(snapshot(rm.namedParameters())).toEqual(before);
  });

  it("a 'ratio' reward stage starts at log 2, trains the reward model's LM only and keeps its reference frozen", async () => {
    const policy = make();
    const ctx = context();
    const losses: number[] = [];
    // as the dpo test above: 8 scenes whose captions an untrained model learns in a few dozen steps
    const stage = stageSchema.parse({ type: 'reward', steps: 40, batchSize: 8, lr: 0.01, warmup: 2, evalEvery: 0, pooling: 'ratio', beta: 0.5, tasks: { caption: 1, detail: 0, question: 0 }, kinds: { existence: 1, attribute: 0, relationship: 0 } });
    const result = await runStage(stage, 0, policy, new StageData(smallWorld, tokenizer, 3), { onStep: (e) => void losses.push(e.loss) }, undefined, ctx);
    expect(losses[0]).toBeCloseTo(Math.log(2), 5); // reward model == reference: every score is 0
    expect(mean(losses.slice(-5))).toBeLessThan(0.9 * Math.log(2));
    const rm = ctx.rewardModel!;
    expect(result.trainableParameters).toBe(rm.model.connector.numParameters() + rm.model.llm.numParameters());
    expect(snapshot(rm.reference!.namedParameters())).toEqual(snapshot(policy.namedParameters()));
  });

  it('ppo without a reward model says which stage is missing', async () => {
    const stage = stageSchema.parse({ type: 'ppo', steps: 1, batchSize: 2 });
    await expect(runStage(stage, 0, make(), new StageData(world, tokenizer, 3), {}, undefined, context())).rejects.toThrow(/"reward" stage must run before "ppo"/);
  });
});

describe('RewardModel', () => {
  it('scores at the last answer position, or averages over the answer positions, as computed by hand', () => {
    const data = new StageData(world, tokenizer, 9);
    const scenes = world.scenes('train').slice(0, 3);
    const samples = scenes.map((scene) => data.tokenize({ id: scene.id, image: scene.id, conversations: [{ from: 'human', value: '<image>\ndescribe' }, { from: 'gpt', value: scene.id === scenes[0]!.id ? 'a red circle' : 'two objects' }] }));
    for (const pooling of ['last', 'mean'] as const) {
      const rm = new RewardModel(make(), new Rng(4), pooling);
      tf.tidy(() => rm.score.weight.assign(tf.randomNormal([1, rm.model.llm.dim], 0, 1, 'float32', 5)));
      const batch = rm.model.collate(samples);
      const got = Array.from(rm.scores(batch).dataSync());
      const hidden = rm.model.forwardWithHidden(batch).hidden.arraySync() as number[][][];
      const w = Array.from(rm.score.weight.dataSync());
      const dot = (h: number[]) => h.reduce((a, x, k) => a + x * w[k]!, 0);
      const want = batch.weights.map((row, r) => {
        const positions = row.map((x, t) => (x ? t : -1)).filter((t) => t >= 0);
        return pooling === 'last' ? dot(hidden[r]![positions.at(-1)!]!) : mean(positions.map((t) => dot(hidden[r]![t]!)));
      });
      got.forEach((g, r) => expect(g).toBeCloseTo(want[r]!, 4));
    }
  });

  it("'likelihood' pooling adds the answer's mean log-probability times a learned scale, by hand", () => {
    const data = new StageData(world, tokenizer, 9);
    const scenes = world.scenes('train').slice(0, 2);
    const samples = scenes.map((scene, i) => data.tokenize({ id: scene.id, image: scene.id, conversations: [{ from: 'human', value: '<image>\ndescribe' }, { from: 'gpt', value: i === 0 ? 'a red circle' : 'two blue objects' }] }));
    const rm = new RewardModel(make(), new Rng(4), 'likelihood');
    expect(rm.likelihoodScale!.dataSync()[0]).toBe(1);
    tf.tidy(() => rm.likelihoodScale!.assign(tf.tensor1d([0.7])));
    const batch = rm.model.collate(samples);
    const got = Array.from(rm.scores(batch).dataSync());
    const { logits, hidden } = rm.model.forwardWithHidden(batch);
    const logitRows = logits.arraySync() as number[][][];
    const hiddenRows = hidden.arraySync() as number[][][];
    const w = Array.from(rm.score.weight.dataSync());
    const want = batch.weights.map((row, r) => {
      const positions = row.map((x, t) => (x ? t : -1)).filter((t) => t >= 0);
      const logProb = (t: number) => {
        const z = logitRows[r]![t]!;
        const max = Math.max(...z);
        return z[batch.targets[r]![t]!]! - max - Math.log(z.reduce((a, v) => a + Math.exp(v - max), 0));
      };
      const head = mean(positions.map((t) => hiddenRows[r]![t]!.reduce((a, x, k) => a + x * w[k]!, 0)));
      return head + 0.7 * mean(positions.map(logProb));
    });
    got.forEach((g, r) => expect(g).toBeCloseTo(want[r]!, 4));
    expect(Object.keys(rm.stateDict())).toContain('likelihood_scale');
  });

  it("'ratio' pooling is DPO's implicit reward: beta times the log-ratio to the reference, its Bradley-Terry loss DPO's", () => {
    const data = new StageData(world, tokenizer, 9);
    const scenes = world.scenes('train').slice(0, 2);
    const answer = (scene: (typeof scenes)[number], text: string) => data.tokenize({ id: scene.id, image: scene.id, conversations: [{ from: 'human', value: '<image>\ndescribe' }, { from: 'gpt', value: text }] });
    const chosen = scenes.map((s) => answer(s, 'a red circle'));
    const rejected = scenes.map((s) => answer(s, 'two blue objects at the top'));
    const reference = make();
    const rm = new RewardModel(make(), new Rng(4), 'ratio', { reference, beta: 0.3 });
    const batch = rm.model.collate([...chosen, ...rejected]);
    // the same weights as the reference: every answer scores 0
    expect(Array.from(rm.scores(batch).dataSync()).every((x) => Math.abs(x) < 1e-4)).toBe(true);
    // move the reward model's own LM away from the reference
    tf.tidy(() => rm.model.namedParameters().filter(([n]) => n.includes('lm_head') || n.includes('embed_tokens')).forEach(([, p]) => (p as tf.Variable).assign(p.add(tf.randomNormal(p.shape, 0, 0.5, 'float32', 7)))));
    const scores = Array.from(rm.scores(batch).dataSync());
    const own = batchLogProbs(rm.model, batch).dataSync();
    const ref = batchLogProbs(reference, batch).dataSync();
    scores.forEach((x, r) => expect(x).toBeCloseTo(0.3 * (own[r]! - ref[r]!), 4));
    expect(scores.some((x) => Math.abs(x) > 0.01)).toBe(true);
    const shares = rm.tokenScores(batch).arraySync();
    shares.forEach((row, r) => expect(row.reduce((a, x) => a + x, 0)).toBeCloseTo(scores[r]!, 4));
    // Bradley-Terry on these scores is DPO's loss with the same beta
    const bt = bradleyTerryLoss(tf.tensor1d(scores.slice(0, 2)), tf.tensor1d(scores.slice(2)), { centerRewardsCoefficient: 0 }).loss.dataSync()[0]!;
    const dpo = dpoLoss({ policyChosen: tf.tensor1d(own.slice(0, 2)), policyRejected: tf.tensor1d(own.slice(2)), referenceChosen: tf.tensor1d(ref.slice(0, 2)), referenceRejected: tf.tensor1d(ref.slice(2)) }, { beta: 0.3 }).loss.dataSync()[0]!;
    expect(bt).toBeCloseTo(dpo, 4);
    expect(Object.keys(rm.stateDict()).some((n) => n.startsWith('reference.'))).toBe(true);
    expect(() => new RewardModel(make(), new Rng(4), 'ratio')).toThrow(/'ratio' pooling needs the reference model/);
  });

  it('splits a mean-pooled score into per-position shares that sum to it, only on the answer', () => {
    const data = new StageData(world, tokenizer, 9);
    const scenes = world.scenes('train').slice(0, 2);
    const samples = scenes.map((scene, i) => data.tokenize({ id: scene.id, image: scene.id, conversations: [{ from: 'human', value: '<image>\ndescribe' }, { from: 'gpt', value: i === 0 ? 'a red circle' : 'two blue objects at the top' }] }));
    for (const pooling of ['mean', 'likelihood'] as const) {
      const rm = new RewardModel(make(), new Rng(4), pooling);
      tf.tidy(() => rm.score.weight.assign(tf.randomNormal([1, rm.model.llm.dim], 0, 1, 'float32', 6)));
      const batch = rm.model.collate(samples);
      const scores = Array.from(rm.scores(batch).dataSync());
      const shares = rm.tokenScores(batch).arraySync();
      shares.forEach((row, r) => {
        expect(row.reduce((a, x) => a + x, 0)).toBeCloseTo(scores[r]!, 4);
        row.forEach((x, t) => (batch.weights[r]![t] ? undefined : expect(Math.abs(x)).toBe(0)));
        expect(new Set(row.filter((_, t) => batch.weights[r]![t]).map((x) => x.toFixed(6))).size).toBeGreaterThan(1);
      });
    }
    expect(() => new RewardModel(make(), new Rng(4), 'last').tokenScores(make().collate(samples))).toThrow(/pooling 'mean', 'likelihood' or 'ratio'/);
  });
});

describe('whiten', () => {
  it('gives the masked positions mean 0 and std 1 and zeroes the rest', () => {
    const out = whiten([[1, 2, 3], [4, 100, 0]], [[1, 1, 1], [1, 0, 0]]);
    const kept = [out[0]![0]!, out[0]![1]!, out[0]![2]!, out[1]![0]!];
    expect(mean(kept)).toBeCloseTo(0, 6);
    expect(Math.sqrt(mean(kept.map((v) => v * v)))).toBeCloseTo(1, 5);
    expect(out[1]!.slice(1)).toEqual([0, 0]);
  });
});
