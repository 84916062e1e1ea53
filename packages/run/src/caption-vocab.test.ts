import { describe, it, expect } from 'vitest';
import { webCaptionCorpus } from '@mllm/data';
import { parseRunConfig } from '@mllm/training';
import { createRegistry } from './registry';
import { createSession } from './session';

// the word tokenizer: which words a run knows is what this test looks at (BPE knows every word)
const base = {
  tokenizer: { type: 'word' },
  encoder: { type: 'vit', imageSize: 16, patchSize: 8, dim: 16, layers: 2, heads: 2 },
  connector: { type: 'mlp' },
  llm: { type: 'causal', dim: 16, layers: 1, heads: 2 },
  stages: [{ type: 'align', steps: 1 }],
};
const session = (captions?: unknown) => createSession(parseRunConfig({ ...base, data: { train: 8, val: 2, test: 2, captions } }, createRegistry()));

describe('the vocabulary of a run with data.captions', () => {
  it('knows every word of the web captions when it trains on them, and only then', () => {
    const web = session({ source: 'web', noise: 0.5 }).tokenizer;
    const text = webCaptionCorpus().join(' ');
    expect(web.unknownWords(text)).toEqual([]);
    const plain = session().tokenizer;
    expect(plain.unknownWords(text)).toEqual(expect.arrayContaining(['stock', 'click', 'wallpaper']));
    // the fine source adds no words: the same vocabulary, so the same ids, as without the option
    expect(session({ source: 'fine' }).tokenizer.vocabSize).toBe(plain.vocabSize);
    expect(web.vocabSize).toBeGreaterThan(plain.vocabSize);
  });
});
