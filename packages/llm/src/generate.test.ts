import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { ConfigError, Registry, Rng, type LanguageModel, type LlmContext } from '@mllm/core';
import { generateDetailed, generateFromEmbeddings, generateStream, type GenerationEvent, type GenerationPrompt } from './generate';
import type { GenerateOptions } from './generation-options';
import { registerLlms } from './register';
import { TEST_VOCAB as VOCAB, TWO_ROW_IDS as ids, TWO_ROW_MASK as mask, smallCausalLm } from './two-row-prompt.test-helper';

const lm = smallCausalLm(3);
const prompt = (): GenerationPrompt => ({ embeds: lm.embed(tf.tensor2d(ids, [2, 5], 'int32')), attentionMask: mask, inputIds: ids });
const run = (options: GenerateOptions) => {
  const p = prompt();
  const out = generateFromEmbeddings(lm, p, options);
  p.embeds.dispose();
  return out;
};

async function collect(stream: AsyncIterable<GenerationEvent>): Promise<GenerationEvent[]> {
  const events: GenerationEvent[] = [];
  for await (const e of stream) events.push(e);
  return events;
}

/**
 * A stand-in LM that, at its n-th forward call, makes script[row][n] the only likely next token;
 * with a decoder of fixed token strings it tests text handling without a trained model.
 */
function scriptedLm(script: number[][], vocab: number): LanguageModel {
  let call = 0;
  const fake = {
    vocabSize: vocab,
    embed: (t: tf.Tensor2D) => tf.tidy(() => t.toFloat().expandDims(2)) as tf.Tensor3D,
    forward: (embeds: tf.Tensor3D) => {
      const [b, t] = embeds.shape;
      const rows = script.map((row) => Array.from({ length: t }, () => Array.from({ length: vocab }, (_, v) => (v === row[call] ? 10 : 0))));
      call++;
      return { logits: tf.tensor3d(rows.slice(0, b)), hidden: tf.zeros([b, t, 1]) as tf.Tensor3D };
    },
  };
  return fake as unknown as LanguageModel;
}
const PIECES = ['a', 'b', '<', '/', 's>', 'xy', 'z', 'END', ' c'];
const piece = (s: string) => PIECES.indexOf(s);
const decode = (tokens: number[]) => tokens.map((t) => PIECES[t]).join('');
const scripted = (pieces: string[][], options: Omit<GenerateOptions, 'maxNewTokens'> & { maxNewTokens?: number }) => {
  const model = scriptedLm(pieces.map((row) => row.map(piece)), PIECES.length);
  const p = { embeds: tf.zeros([pieces.length, 1, 1]) as tf.Tensor3D, attentionMask: pieces.map(() => [1]) };
  return { model, p, options: { maxNewTokens: 20, decode, ...options } };
};

describe('generate: KV cache against full recompute', () => {
  it('gives the same tokens greedy and sampled (fixed seed, top-k, top-p, repetition penalty), on left-padded rows', () => {
    const sampling = { maxNewTokens: 12, temperature: 1.5, topK: 20, topP: 0.9, repetitionPenalty: 1.3, seed: 11 };
    for (const options of [{ maxNewTokens: 12 }, sampling]) {
      const cached = run(options);
      const recomputed = run({ ...options, useCache: false });
      expect(cached).toEqual(recomputed);
      expect(cached.map((r) => r.length)).toEqual([12, 12]);
    }
    // sampling really departs from greedy, so the sampled equality is not greedy twice
    expect(run(sampling)).not.toEqual(run({ maxNewTokens: 12 }));
  });

  it.each(['prefix', 'encoder-decoder'])('holds for the %s backbone too (the whole prompt is its prefix)', (type) => {
    const registry = new Registry<LlmContext, LanguageModel>('llm');
    registerLlms({ llms: registry });
    const backbone = registry.build({ type, dim: 16, layers: 2, heads: 4, kvHeads: 2 }, { rng: new Rng(8), vocabSize: VOCAB });
    const p = { embeds: backbone.embed(tf.tensor2d(ids, [2, 5], 'int32')), attentionMask: mask, inputIds: ids, prefixLengths: [5, 5] };
    const options = { maxNewTokens: 8, temperature: 1.5, topP: 0.9, repetitionPenalty: 1.3, seed: 12 };
    const cached = generateFromEmbeddings(backbone, p, options);
    expect(cached).toEqual(generateFromEmbeddings(backbone, p, { ...options, useCache: false }));
    expect(cached).not.toEqual(generateFromEmbeddings(backbone, p, { maxNewTokens: 8 }));
    p.embeds.dispose();
  });

  it('same seed same tokens, another seed other tokens', () => {
    const hot = { maxNewTokens: 30, temperature: 3 };
    expect(run({ ...hot, seed: 5 })).toEqual(run({ ...hot, seed: 5 }));
    expect(run({ ...hot, rng: new Rng(5) })).toEqual(run({ ...hot, seed: 5 }));
    // 60 draws at temperature 3 over 40 tokens: equal outputs would be a ~1e-40 coincidence
    expect(run({ ...hot, seed: 6 })).not.toEqual(run({ ...hot, seed: 5 }));
  });

  it('repetition penalty: the first pick is the argmax of the hand-penalised prompt logits (padding not counted)', () => {
    const penalty = 3;
    const p = prompt();
    const last = tf.tidy(() => lm.forward(p.embeds, { attentionMask: mask }).logits.slice([0, 4, 0], [2, 1, VOCAB]).reshape([2, VOCAB]).arraySync() as number[][]);
    p.embeds.dispose();
    const byHand = last.map((row, r) => {
      const seen = new Set(ids[r]!.filter((_, k) => mask[r]![k] === 1));
      const penalised = row.map((x, v) => (seen.has(v) ? (x < 0 ? x * penalty : x / penalty) : x));
      return penalised.indexOf(Math.max(...penalised));
    });
    const first = run({ maxNewTokens: 1, repetitionPenalty: penalty }).map((r) => r[0]);
    expect(first).toEqual(byHand);
    expect(run({ maxNewTokens: 12, repetitionPenalty: penalty })).not.toEqual(run({ maxNewTokens: 12 }));
  });
});

describe('generate: streaming', () => {
  it('yields the same tokens as the batch call, then one end per row; texts add up to the decoded tokens', async () => {
    const options = { maxNewTokens: 10, temperature: 1.2, seed: 9, stopTokens: [4], decode: (t: number[]) => t.map((x) => `w${x}`).join(' ') };
    const p = prompt();
    const batch = generateDetailed(lm, p, options);
    const events = await collect(generateStream(lm, p, options));
    p.embeds.dispose();
    for (const row of [0, 1]) {
      const mine = events.filter((e) => e.row === row);
      expect(mine.filter((e) => e.type === 'token').map((e) => (e as { token: number }).token)).toEqual(batch.tokens[row]);
      expect(mine.at(-1)).toMatchObject({ type: 'end', reason: batch.finishReasons[row] });
      expect(mine.filter((e) => e.type === 'end')).toHaveLength(1);
      expect(mine.map((e) => e.text).join('')).toBe(options.decode(batch.tokens[row]!));
      expect(batch.texts![row]).toBe(options.decode(batch.tokens[row]!));
    }
  });

  it('stopping early frees the cache and logits', async () => {
    const p = prompt();
    await collect(generateStream(lm, p, { maxNewTokens: 2 })); // builds the cached RoPE tables once
    const before = tf.memory().numTensors;
    for await (const e of generateStream(lm, p, { maxNewTokens: 20 })) if (e.type === 'token') break;
    expect(tf.memory().numTensors).toBe(before);
    p.embeds.dispose();
  });
});

describe('generate: stop tokens and stop strings', () => {
  it('a stop token ends its row only, and is not part of the output', () => {
    const { model, p, options } = scripted([['a', 'END', 'b'], ['a', 'b', 'a']], { stopTokens: [piece('END')], maxNewTokens: 3 });
    const r = generateDetailed(model, p, options);
    expect(r.tokens).toEqual([[piece('a')], [piece('a'), piece('b'), piece('a')]]);
    expect(r.finishReasons).toEqual(['stop-token', 'max-new-tokens']);
  });

  it('a stop string across three tokens ends the row and cuts the text before it', () => {
    const { model, p, options } = scripted([['a', 'b', '<', '/', 's>', 'a']], { stopStrings: ['</s>'] });
    const r = generateDetailed(model, p, options);
    expect(r.tokens).toEqual([[piece('a'), piece('b')]]);
    expect(r.texts).toEqual(['ab']);
    expect(r.finishReasons).toEqual(['stop-string']);
  });

  it('a stop string starting inside a token keeps the text before it and drops the token', () => {
    const { model, p, options } = scripted([['a', 'xy', 'z', 'b']], { stopStrings: ['yz'] });
    const r = generateDetailed(model, p, options);
    expect(r.tokens).toEqual([[piece('a')]]);
    expect(r.texts).toEqual(['ax']);
  });

  it('the earliest of several stop strings wins', () => {
    const { model, p, options } = scripted([['a', 'b', ' c', 'a']], { stopStrings: [' c', 'b c', 'ab c a'] });
    expect(generateDetailed(model, p, options).texts).toEqual(['a']);
  });

  it('streaming holds back a possible stop string start and releases it on a false alarm', async () => {
    const { model, p, options } = scripted([['a', '<', '/', 'b', '<', '/', 's>']], { stopStrings: ['</s>'] });
    const events = await collect(generateStream(model, p, options));
    // '<' and '/' wait until 'b' shows they were no stop string; the second '</' never comes out
    expect(events.map((e) => (e.type === 'token' ? PIECES[e.token] : `end:${e.reason}`))).toEqual(['a', '<', '/', 'b', 'end:stop-string']);
    expect(events.map((e) => e.text).join('')).toBe('a</b');
    const batch = generateDetailed(scriptedLm([['a', '<', '/', 'b', '<', '/', 's>'].map(piece)], PIECES.length), p, options);
    expect(batch.texts).toEqual(['a</b']);
  });
});

describe('generate: option errors', () => {
  const bad: [GenerateOptions, RegExp][] = [
    [{ maxNewTokens: 0 }, /maxNewTokens: must be an integer >= 1/],
    [{ maxNewTokens: 4, temperature: 1, seed: 1, topP: 0 }, /topP: must be in \(0, 1\]/],
    [{ maxNewTokens: 4, temperature: 1, seed: 1, topP: 1.5 }, /topP: must be in \(0, 1\]/],
    [{ maxNewTokens: 4, repetitionPenalty: 0 }, /repetitionPenalty: must be > 0/],
    [{ maxNewTokens: 4, temperature: -1 }, /temperature: must be >= 0/],
    [{ maxNewTokens: 4, temperature: 1, seed: 1, topK: 0 }, /topK: must be an integer >= 1/],
    [{ maxNewTokens: 4, topK: 5 }, /topK: only applies when sampling; set temperature > 0/],
    [{ maxNewTokens: 4, temperature: 1 }, /rng: sampling \(temperature > 0\) needs a seeded rng or a seed/],
    [{ maxNewTokens: 4, temperature: 1, seed: 1, rng: new Rng(1) }, /seed: give rng or seed, not both/],
    [{ maxNewTokens: 4, stopStrings: ['</s>'] }, /decode: stopStrings need decode/],
    [{ maxNewTokens: 4, stopStrings: [''], decode: () => '' }, /stopStrings\[0\]: a stop string must not be empty/],
    [{ maxNewTokens: 4, stopTokens: [VOCAB] }, /stopTokens: id 40 is outside the vocabulary \(size 40\)/],
    [{ maxNewTokens: 4, top_p: 0.5 } as GenerateOptions, /unknown field\(s\) "top_p"/],
  ];
  it.each(bad)('%j is refused', (options, message) => {
    const p = prompt();
    expect(() => generateFromEmbeddings(lm, p, options)).toThrow(ConfigError);
    expect(() => generateStream(lm, p, options)).toThrow(message);
    p.embeds.dispose();
  });

  it('a repetition penalty needs the prompt ids', () => {
    const p = { ...prompt(), inputIds: undefined };
    expect(() => generateFromEmbeddings(lm, p, { maxNewTokens: 2, repetitionPenalty: 1.2 })).toThrow(/repetitionPenalty: needs the prompt ids \(prompt.inputIds\)/);
    p.embeds.dispose();
  });
});
