import { describe, it, expect } from 'vitest';
import { createRegistry } from './registry';
import { parseRunConfig } from '@mllm/training';
import { BpeTokenizer, WordTokenizer } from '@mllm/tokenizer';
import { createSession, createWorld } from './session';

/** 8 special tokens and 256 bytes: a BPE vocabulary above it has learnt merges. */
const BYTES_AND_SPECIALS = 264;

const base = {
  encoder: { type: 'vit', imageSize: 16, patchSize: 8, dim: 16, layers: 2, heads: 2 },
  connector: { type: 'mlp' },
  llm: { type: 'causal', dim: 16, layers: 1, heads: 2 },
  data: { train: 8, val: 2, test: 2 },
  stages: [{ type: 'instruct', steps: 1 }],
};

describe('createWorld', () => {
  it('renders at the encoder image size without highRes', () => {
    const world = createWorld(parseRunConfig(base, createRegistry()));
    expect(world.imageSize).toBe(16);
    expect(world.objectScale).toBe(1);
  });

  it('renders at highRes.inputSize with the data block high-resolution options, for both strategies', () => {
    for (const strategy of ['resize', 'tiles'] as const) {
      const config = parseRunConfig(
        { ...base, encoder: { ...base.encoder, highRes: { strategy, inputSize: 32 } }, data: { ...base.data, objectScale: 0.5, positionGrid: 'image', minBrightness: 0.5 } },
        createRegistry(),
      );
      const session = createSession(config);
      expect(session.world.imageSize).toBe(32);
      expect(session.world.objectScale).toBe(0.5);
      expect(session.world.scenes('train').every((s) => s.objects.every((o) => o.brightness! >= 0.5 && o.brightness! <= 1))).toBe(true);
      expect(session.world.image('train-0').length).toBe(32 * 32 * 3);
      expect(session.model.encoder.imageSize).toBe(32);
      expect(session.model.tokensPerImage).toBe(strategy === 'tiles' ? 4 + 4 * 5 : 4);
    }
  });

  it('rejects an objectScale outside (0, 1] in the data block', () => {
    expect(() => parseRunConfig({ ...base, data: { ...base.data, objectScale: 2 } }, createRegistry())).toThrow(/data\.objectScale/);
  });
});

describe('createSession tokenizer', () => {
  it('trains the byte-level BPE the config names: every prompt encodes, and the model has a row per token', () => {
    const session = createSession(parseRunConfig({ ...base, tokenizer: { type: 'bpe', vocabSize: 400 } }, createRegistry()));
    const tok = session.tokenizer;
    expect(tok).toBeInstanceOf(BpeTokenizer);
    expect(tok.vocabSize).toBeLessThanOrEqual(400);
    expect(tok.vocabSize).toBeGreaterThan(BYTES_AND_SPECIALS);
    expect(session.model.llm.vocabSize).toBe(tok.vocabSize);
    const prompt = 'How many objects are in the image? Zebra!';
    expect(tok.encode(prompt)).not.toContain(tok.special.unk);
    expect(tok.decode(tok.encode(prompt))).toBe(prompt);
    expect(tok.unknownWords(prompt)).toEqual([]);
    // the same config trains the same merges
    expect(createSession(session.config).tokenizer.tokens()).toEqual(tok.tokens());
    session.model.dispose();
  });

  it('trains byte-level BPE when the config names no tokenizer, the word tokenizer when it names it, and refuses options of the other kind by path', () => {
    const session = createSession(parseRunConfig(base, createRegistry()));
    expect(session.tokenizer).toBeInstanceOf(BpeTokenizer);
    expect(session.config.tokenizer).toEqual({ type: 'bpe', vocabSize: 1024, minFrequency: 1 });
    expect(session.tokenizer.unknownWords('what colour is the zebra ?')).toEqual([]);
    session.model.dispose();
    const word = createSession(parseRunConfig({ ...base, tokenizer: { type: 'word' } }, createRegistry()));
    expect(word.tokenizer).toBeInstanceOf(WordTokenizer);
    expect(word.config.tokenizer).toEqual({ type: 'word', minFrequency: 1, maxVocab: 32000 });
    word.model.dispose();
    expect(() => parseRunConfig({ ...base, tokenizer: { type: 'bpe', maxVocab: 100 } }, createRegistry())).toThrow(/tokenizer.*maxVocab/);
    expect(() => parseRunConfig({ ...base, tokenizer: { maxVocab: 100 } }, createRegistry())).toThrow(/tokenizer: unknown field\(s\) "maxVocab": a tokenizer without "type" is byte-level BPE .*add "type": "word"/);
    expect(() => parseRunConfig({ ...base, tokenizer: { type: 'bpe', vocabSize: 100 } }, createRegistry())).toThrow(/tokenizer\.vocabSize.*264/);
  });
});
