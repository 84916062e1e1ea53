import { describe, expect, it } from 'vitest';
import type { PopeMetrics } from './pope';
import { fmt3, reportMarkdown } from './report-md';
import type { RunReport } from './report-md';

const pope = (accuracy: number): PopeMetrics => ({
  accuracy,
  precision: 2 / 3,
  recall: 1,
  f1: 0.8,
  yesRatio: 0.75,
  n: 4,
  other: 0,
});

const report: RunReport = {
  backend: 'wasm',
  seed: 7,
  config: 'configs/default.json',
  wallSeconds: 12.3456,
  stages: [
    { name: 'align', type: 'align', steps: 200, finalLoss: 1.23456, seconds: 3.5 },
    { name: 'instruct', steps: 400, finalLoss: Number.NaN, seconds: 8 },
  ],
  eval: {
    pope: { random: pope(0.75), popular: pope(0.5), adversarial: pope(0.25) },
    chair: { chairI: 3 / 7, chairS: 0.5, coverage: 0.5, captions: 4, mentions: 7, hallucinated: 3, hallucinatedCaptions: 2 },
    closedSet: { accuracy: 0.5, byType: { existence: { accuracy: 0.5, n: 2 }, 'count|x': { accuracy: 1 / 3, n: 3 } }, n: 5 },
    samples: { captions: [{ sceneId: 's0', caption: 'a red circle' }], closedSet: [] },
  },
};

describe('fmt3', () => {
  it('prints 3 decimals and n/a for non-finite values', () => {
    expect(fmt3(1 / 3)).toBe('0.333');
    expect(fmt3(2)).toBe('2.000');
    expect(fmt3(Number.NaN)).toBe('n/a');
  });
});

describe('reportMarkdown', () => {
  const md = reportMarkdown(report);

  it('records the setup', () => {
    expect(md.startsWith('# Run report\n')).toBe(true);
    expect(md).toContain('- backend: `wasm`');
    expect(md).toContain('- seed: 7');
    expect(md).toContain('- config: `configs/default.json`');
    expect(md).toContain('- wall time: 12.346 s');
  });

  it('tabulates stages with 3-decimal numbers', () => {
    expect(md).toContain('| stage | type | steps | final loss | seconds |');
    expect(md).toContain('| align | align | 200 | 1.235 | 3.500 |');
    expect(md).toContain('| instruct |  | 400 | n/a | 8.000 |');
  });

  it('has one POPE row per sampling, in order', () => {
    expect(md).toContain('| sampling | accuracy | precision | recall | F1 | yes-ratio | n |');
    const random = md.indexOf('| random | 0.750 | 0.667 | 1.000 | 0.800 | 0.750 | 4 |');
    const popular = md.indexOf('| popular | 0.500 |');
    const adversarial = md.indexOf('| adversarial | 0.250 |');
    expect(random).toBeGreaterThan(0);
    expect(popular).toBeGreaterThan(random);
    expect(adversarial).toBeGreaterThan(popular);
  });

  it('reports CHAIR, closed set by type (escaping pipes) and sample captions', () => {
    expect(md).toContain('| 0.429 | 0.500 | 0.500 | 4 | 7 | 3 |');
    expect(md).toContain('| existence | 0.500 | 2 |');
    expect(md).toContain('| count\\|x | 0.333 | 3 |');
    expect(md).toContain('| **all** | **0.500** | 5 |');
    expect(md).toContain('| s0 | a red circle |');
    expect(md.endsWith('|\n')).toBe(true);
  });

  it('aligns text columns left and numbers right', () => {
    expect(md).toContain('| --- | --- | ---: | ---: | ---: |');
  });

  it('prints n/a for an empty POPE split', () => {
    const empty = { accuracy: 0, precision: 0, recall: 0, f1: 0, yesRatio: 0, n: 0, other: 0 };
    const r = reportMarkdown({ ...report, eval: { ...report.eval!, pope: { ...report.eval!.pope, popular: empty } } });
    expect(r).toContain('| popular | n/a | n/a | n/a | n/a | n/a | 0 |');
  });

  it('says so when a run was not evaluated', () => {
    const plain = reportMarkdown({ backend: 'cpu', seed: 0, stages: [] });
    expect(plain).toContain('No training stages.');
    expect(plain).toContain('Not evaluated.');
    expect(plain).not.toContain('config:');
  });
});
