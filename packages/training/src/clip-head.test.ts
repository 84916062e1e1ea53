import { describe, it, expect } from 'vitest';
import { Rng } from '@mllm/core';
import { ClipHead } from './clip-head';

/** A tokenizer that spells each character as its own id (as a BPE with few merges spells words). */
const chars = { encode: (text: string) => [...text].map((c) => c.charCodeAt(0) % 90), special: { eos: 98, pad: 99 } };

describe('ClipHead text batches', () => {
  it("cuts a text longer than the tower to its first maxLength - 1 tokens and keeps end-of-text last, as CLIP's tokenizer truncates", () => {
    const head = new ClipHead({ vocabSize: 100, imageDim: 8, textDim: 8, textLayers: 1, textHeads: 2, projectionDim: 4, maxLength: 6 }, new Rng(0));
    const { ids, lengths } = head.textBatch(['a red circle .', 'ok'], chars);
    expect(ids).toEqual([
      [...chars.encode('a red'), 98],
      [...chars.encode('ok'), 98, 99, 99, 99],
    ]);
    expect(lengths).toEqual([6, 3]);
    // the tower reads the cut batch: one embedding per text, no error about its length
    const embeds = head.encodeText(ids, lengths);
    expect(embeds.shape).toEqual([2, 4]);
    embeds.dispose();
    head.dispose();
  });
});
