import { describe, it, expect } from 'vitest';
import { Rng } from '@mllm/core';
import { ANSWER_MARKER, REASONING_PROMPT, chainCorpus, reasoningCorpus } from '@mllm/data';
import { WordTokenizer } from '@mllm/tokenizer';
import { buildModel, createComponentRegistry } from '@mllm/model';
import { runStage } from './run-stage';
import { stageSchema } from './run-config';
import { StageData } from './stage-data';
import { world } from './tiny-run.test-helper';

const tokenizer = WordTokenizer.train([...world.corpus(), ...reasoningCorpus(world.scenes('train'), new Rng(0)), ...chainCorpus(world.scenes('train'), new Rng(1))]);
const makeModel = () =>
  buildModel(
    { encoder: { type: 'vit', imageSize: 16, patchSize: 8, dim: 16, layers: 1, heads: 2 }, connector: { type: 'mlp' }, llm: { type: 'causal', dim: 16, layers: 1, heads: 2 } },
    { registry: createComponentRegistry(), vocabSize: tokenizer.vocabSize, special: { imageTokenId: tokenizer.special.image, padId: tokenizer.special.pad }, seed: 2 },
  );

describe('chain-of-thought instruction data', () => {
  it('a chain sample asks step by step and trains on the whole chain; a reasoning-qa sample asks directly', () => {
    const data = new StageData(world, tokenizer, 5);
    const scene = world.scenes('train')[3]!;
    const split = (kind: 'chain' | 'reasoning-qa') => {
      const sample = data.tokenize(data.conversation('instruct', scene, data.rngFor(0, 0), kind));
      expect(sample.ids).not.toContain(tokenizer.special.unk);
      return {
        prompt: tokenizer.decode(sample.ids.filter((_, i) => sample.lossMask[i] === 0)),
        trained: tokenizer.decode(sample.ids.filter((_, i) => sample.lossMask[i] === 1)),
      };
    };
    const chain = split('chain');
    expect(chain.prompt.endsWith(REASONING_PROMPT)).toBe(true);
    expect(chain.trained).toMatch(new RegExp(`^the (objects are|only object is) .* ${ANSWER_MARKER} \\w+ \\.$`));
    const direct = split('reasoning-qa');
    expect(direct.prompt).not.toContain('step by step');
    expect(direct.trained).not.toContain(ANSWER_MARKER);
  });

  it('an instruct stage with a chainOfThought share trains on chains (longer answers than without)', async () => {
    // a model over the tokenizer that knows the reasoning words
    const run = (chainOfThought: number) =>
      runStage(stageSchema.parse({ type: 'instruct', steps: 6, batchSize: 4, evalEvery: 0, chainOfThought }), 0, makeModel(), new StageData(world, tokenizer, 4));
    const [plain, reasoning] = [await run(0), await run(1)];
    expect(Number.isFinite(reasoning.finalLoss)).toBe(true);
    expect(reasoning.tokens).toBeGreaterThan(plain.tokens);
  });

  it('chain options pick the chain: positions then the combining step, or one step blanked (infilling)', () => {
    const data = new StageData(world, tokenizer, 5);
    const scene = world.scenes('train')[3]!;
    const trained = (chains: unknown, step: number) => {
      const stage = stageSchema.parse({ type: 'instruct', steps: 1, chainOfThought: chains });
      if (stage.type !== 'instruct') throw new Error('instruct expected');
      const sample = data.tokenize(data.conversation('instruct', scene, data.rngFor(0, step), 'chain', stage.chainOfThought));
      expect(sample.ids).not.toContain(tokenizer.special.unk);
      return { prompt: tokenizer.decode(sample.ids.filter((_, i) => sample.lossMask[i] === 0)), reply: tokenizer.decode(sample.ids.filter((_, i) => sample.lossMask[i] === 1)) };
    };
    const single = trained({ share: 1, style: 'single', length: 'fixed' }, 0);
    expect(single.prompt.endsWith(REASONING_PROMPT)).toBe(true);
    expect(single.reply).toMatch(new RegExp(`^the top left (has|is empty).* the bottom right (has|is empty).* ${ANSWER_MARKER} \\w+ \\.$`));
    expect(trained({ share: 1, style: 'tree', length: 'fixed' }, 0).reply).toMatch(/^what is at the top left \? /);
    // the number form trains the original chain
    expect(trained(1, 0).reply).toMatch(/^the (objects are|only object is) /);
    const infill = trained({ share: 1, style: 'single', infilling: 1 }, 0);
    expect(infill.prompt).toContain('blank .');
    expect(infill.prompt.endsWith('what is the blank step ?')).toBe(true);
    expect(infill.reply).not.toContain(ANSWER_MARKER);
  });

  it('a counterfactual chain trains every word but the altered descriptions, which carry no loss', () => {
    const data = new StageData(world, tokenizer, 5);
    const stage = stageSchema.parse({ type: 'instruct', steps: 1, chainOfThought: { share: 1, carry: 'described', counterfactual: 1 } });
    if (stage.type !== 'instruct') throw new Error('instruct expected');
    let checked = 0;
    for (let step = 0; step < 12; step++) {
      const sample = data.conversation('instruct', world.scenes('train')[step]!, data.rngFor(0, step), 'chain', stage.chainOfThought) as { conversations: { value: string }[]; untrainedWords?: number[] };
      const untrained = sample.untrainedWords;
      if (!untrained) continue; // a plain count: nothing to alter
      const tokenized = data.tokenize(sample as Parameters<StageData['tokenize']>[0]);
      const reply = sample.conversations.at(-1)!.value.split(' ');
      const trained = tokenizer.decode(tokenized.ids.filter((_, i) => tokenized.lossMask[i] === 1)).split(' ');
      // the word tokenizer gives a token per word: the trained reply is the reply less the untrained words
      expect(trained).toEqual(reply.filter((_, i) => !untrained.includes(i)));
      checked++;
    }
    expect(checked).toBeGreaterThan(3);
  });
});
