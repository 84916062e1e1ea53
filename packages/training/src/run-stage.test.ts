import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { caption } from '@mllm/data';
import { runStage } from './run-stage';
import { defaultTrains, stageSchema } from './run-config';
import { StageData } from './stage-data';
import { make, tokenizer, valuesOf, world } from './tiny-run.test-helper';

const snapshot = (m: ReturnType<typeof make>, prefix: string) => valuesOf(m.namedParameters().filter(([n]) => n.startsWith(prefix)));

describe('runStage', () => {
  it('align trains only the connector and lowers the validation loss', async () => {
    const m = make();
    const data = new StageData(world, tokenizer, 3);
    const frozenBefore = { ...snapshot(m, 'vision_tower'), ...snapshot(m, 'language_model') };
    const untrained = await runStage(stageSchema.parse({ type: 'align', steps: 0 }), 0, m, data);
    const trained = await runStage(stageSchema.parse({ type: 'align', steps: 40, batchSize: 8, lr: 0.01, warmup: 2 }), 0, m, data);
    expect(trained.trains).toEqual(['connector']);
    expect(trained.trainableParameters).toBe(m.connector.numParameters());
    expect(trained.valLoss).toBeLessThan(untrained.valLoss);
    expect({ ...snapshot(m, 'vision_tower'), ...snapshot(m, 'language_model') }).toEqual(frozenBefore);
  });

  it('pretrain-encoder lowers the contrastive loss and leaves the LLM untouched', async () => {
    const m = make();
    const data = new StageData(world, tokenizer, 4);
    const llmBefore = snapshot(m, 'language_model');
    const losses: number[] = [];
    await runStage(stageSchema.parse({ type: 'pretrain-encoder', steps: 30, batchSize: 16, lr: 0.003, warmup: 2 }), 0, m, data, { onStep: (e) => void losses.push(e.loss) });
    expect(losses.slice(-5).reduce((a, b) => a + b) / 5).toBeLessThan(losses.slice(0, 5).reduce((a, b) => a + b) / 5);
    expect(snapshot(m, 'language_model')).toEqual(llmBefore);
  });

  it('pretrain-encoder with the regions objective teaches the encoder what is in each cell', async () => {
    const m = make();
    const data = new StageData(world, tokenizer, 7);
    const losses: number[] = [];
    const stage = stageSchema.parse({ type: 'pretrain-encoder', objectives: ['regions'], steps: 40, batchSize: 16, lr: 0.003, warmup: 2 });
    const result = await runStage(stage, 0, m, data, { onStep: (e) => void losses.push(e.loss) });
    expect(result.trains).toEqual(['encoder']);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b) / xs.length;
    expect(mean(losses.slice(-5))).toBeLessThan(0.8 * mean(losses.slice(0, 5)));
  });

  it('pretrain-encoder resumed mid-stage (encoder, both heads, optimizer) gives the uninterrupted losses', async () => {
    const stage = stageSchema.parse({ type: 'pretrain-encoder', objectives: ['contrastive', 'regions'], steps: 6, batchSize: 8, lr: 0.003, warmup: 1, checkpointEvery: 3, evalEvery: 0 });
    const data = new StageData(world, tokenizer, 8);
    const straight: number[] = [];
    await runStage(stage, 0, make(), data, { onStep: (e) => void straight.push(e.loss) });

    const clone = (entries: Iterable<[string, tf.Tensor]>) => Object.fromEntries([...entries].map(([n, t]) => [n, t.clone()]));
    const interrupted = make();
    let saved: { step: number; model: Record<string, tf.Tensor>; optimizer: Record<string, tf.Tensor>; extra: Record<string, tf.Tensor> } | undefined;
    const stop = new Error('interrupted');
    await expect(
      runStage(stage, 0, interrupted, data, {
        onCheckpoint: async ({ step, optimizer, extra }) => {
          saved = { step, model: clone(Object.entries(interrupted.stateDict())), optimizer: clone(Object.entries(optimizer.stateDict())), extra: clone(extra!.namedParameters()) };
          throw stop;
        },
      }),
    ).rejects.toBe(stop);
    expect(Object.keys(saved!.extra).some((n) => n.startsWith('clip_head.'))).toBe(true);
    expect(Object.keys(saved!.extra).some((n) => n.startsWith('region_head.'))).toBe(true);

    const resumedModel = make();
    resumedModel.loadStateDict(saved!.model);
    const resumed: number[] = [];
    await runStage(stage, 0, resumedModel, data, { onStep: (e) => void resumed.push(e.loss) }, { step: saved!.step, optimizer: saved!.optimizer, extra: saved!.extra });
    expect(resumed).toEqual(straight.slice(saved!.step));
  });

  it('instruct trains only a fusion connector by default, the connector and the LLM with a token-level one', () => {
    expect(defaultTrains('instruct', 'fusion-connector')).toEqual(['connector']);
    expect(defaultTrains('instruct', 'token-connector')).toEqual(['connector', 'llm']);
    expect(defaultTrains('align', 'fusion-connector')).toEqual(['connector']);
  });

  it('the objectives list is validated', () => {
    expect(stageSchema.parse({ type: 'pretrain-encoder', steps: 1 })).toMatchObject({ objectives: ['contrastive'] });
    expect(stageSchema.safeParse({ type: 'pretrain-encoder', steps: 1, objectives: ['regions', 'regions'] }).success).toBe(false);
    expect(stageSchema.safeParse({ type: 'pretrain-encoder', steps: 1, objectives: ['captions'] }).success).toBe(false);
    expect(stageSchema.safeParse({ type: 'pretrain-encoder', steps: 1, objectives: [] }).success).toBe(false);
  });

  it('instruct batches train on response tokens only', () => {
    const data = new StageData(world, tokenizer, 5);
    const rng = data.rngFor(0, 0);
    const scene = world.scenes('train')[0]!;
    const sample = data.tokenize(data.conversation('instruct', scene, rng));
    const trained = sample.ids.filter((_, i) => sample.lossMask[i] === 1);
    const { user, assistant, image, bos } = tokenizer.special;
    for (const id of [user, assistant, image, bos]) expect(trained).not.toContain(id);
    expect(trained.length).toBeGreaterThan(0);
  });

  it('text-only conversations for LLM pre-training put the caption where the image was and train on responses only', () => {
    const data = new StageData(world, tokenizer, 5);
    const scene = world.scenes('train')[0]!;
    const sample = data.textConversation(scene, data.rngFor(0, 0), 'existence');
    const { user, assistant, image } = tokenizer.special;
    expect(sample.images).toEqual([]);
    expect(sample.ids).not.toContain(image);
    expect(sample.ids).toContain(user);
    expect(sample.ids).toContain(assistant);
    const prompt = tokenizer.decode(sample.ids.filter((_, i) => sample.lossMask[i] === 0));
    expect(prompt).toContain(caption(scene).replace(/ \.$/, ''));
    const trained = tokenizer.decode(sample.ids.filter((_, i) => sample.lossMask[i] === 1));
    expect(trained).toMatch(/^(yes|no)\b/);
  });

  it('pretrain-llm with conversations trains the LLM on chat samples, longer than plain text', async () => {
    const run = (conversations: number) => runStage(stageSchema.parse({ type: 'pretrain-llm', steps: 3, batchSize: 6, conversations }), 0, make(), new StageData(world, tokenizer, 4));
    const [plain, chat] = [await run(0), await run(1)];
    expect(chat.trains).toEqual(['llm']);
    expect(Number.isFinite(chat.finalLoss)).toBe(true);
    // a chat sample carries the caption as context and the role tokens: longer than plain text
    expect(chat.tokens).toBeGreaterThan(plain.tokens);
    expect(stageSchema.parse({ type: 'pretrain-llm', steps: 1 })).toMatchObject({ conversations: 0 });
    expect(stageSchema.safeParse({ type: 'pretrain-llm', steps: 1, conversations: 1.5 }).success).toBe(false);
  });

  it('contrastive batches pair each scene with a near-miss twin that differs in one word', () => {
    const data = new StageData(world, tokenizer, 6);
    const pairs = data.contrastivePairs(data.rngFor(0, 0), 16);
    expect(pairs.length).toBe(16);
    let twins = 0;
    for (let i = 0; i + 1 < pairs.length; i++) {
      const a = pairs[i]!.caption.split(' ');
      const b = pairs[i + 1]!.caption.split(' ');
      if (a.length === b.length && a.filter((w, k) => w !== b[k]).length === 1) twins++;
    }
    expect(twins).toBeGreaterThanOrEqual(6);
  });

  it('a batch depends only on (seed, stage, step)', () => {
    const a = new StageData(world, tokenizer, 9);
    const b = new StageData(world, tokenizer, 9);
    const pick = (d: StageData) => d.pickScenes(d.rngFor(2, 17), 'train', 5).map((s) => s.id);
    expect(pick(a)).toEqual(pick(b));
    expect(pick(a)).not.toEqual(a.pickScenes(a.rngFor(2, 18), 'train', 5).map((s) => s.id));
  });
});
