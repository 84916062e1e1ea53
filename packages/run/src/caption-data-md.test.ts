import { describe, it, expect } from 'vitest';
import type { CaptionPoolReport } from '@mllm/training';
import { captionDataMarkdown } from './caption-data-md';

const scores = { quantiles: {}, byLabel: {}, histogram: [] } as unknown as NonNullable<CaptionPoolReport['filter']>['scores'];
const filtered: CaptionPoolReport = {
  source: 'web',
  seconds: 12.4,
  scenes: 1000,
  trainedOn: 581,
  noise: { asked: 0.4, noisy: 0.408, wrong: 0.195, unrelated: 0.213 },
  filter: { rule: 'threshold', threshold: 0.9, scorerLoss: 0.2, scores, pairs: 1000, removed: 419, removedShare: 0.419, precision: 0.945, recall: 0.971, keptNoise: 0.02 },
};

describe('report.md caption-data section', () => {
  it('is empty when no align stage trained on a caption pool', () => {
    expect(captionDataMarkdown([{ name: '2-align' }, { name: '3-instruct' }])).toBe('');
  });

  it("states the pool's noise and the filter's removal with its precision and recall", () => {
    const md = captionDataMarkdown([{ name: '1-pretrain-llm' }, { name: '2-align', captions: filtered }]);
    expect(md).toContain('Stage 2-align: web captions of 1000 images, trained on 581');
    expect(md).toContain('| noise asked / in the pool | 0.400 / 0.408 (wrong 0.195, unrelated 0.213) |');
    expect(md).toContain('| CLIP filter (cosine >= 0.9) | removed 419 of 1000 (0.419) |');
    expect(md).toContain('| removed pairs that were noise (precision) | 0.945 |');
    expect(md).toContain('| noisy pairs removed (recall) | 0.971 |');
  });

  it('states the recaptions against the web captions, and n/a for a precision of nothing removed', () => {
    const recaptioned: CaptionPoolReport = {
      source: 'web',
      seconds: 30,
      scenes: 1000,
      trainedOn: 1000,
      recaption: { captions: 1000, chairI: 0.018, chairS: 0.049, recall: 0.93, exact: 0.77, captionerLoss: 0.3, trainedOn: 500, sourceChairI: 0.16 },
    };
    expect(captionDataMarkdown([{ name: '2-align', captions: recaptioned }])).toContain('| recaptions: CHAIR_i / CHAIR_s | 0.018 / 0.049 (the web captions\' CHAIR_i 0.160) |');
    const nothingRemoved = captionDataMarkdown([{ name: '2-align', captions: { ...filtered, filter: { ...filtered.filter!, removed: 0, removedShare: 0, precision: Number.NaN } } }]);
    expect(nothingRemoved).toContain('| removed pairs that were noise (precision) | n/a |');
  });
});
