import { describe, expect, it } from 'vitest';
import { binaryAgreement } from './judge-report';
import { judgeSection } from './judge-report-md';

describe('judge report', () => {
  it('binaryAgreement: accuracy, kappa and the exact positive share', () => {
    expect(binaryAgreement([true, false, true, true], [true, false, false, true])).toEqual({ accuracy: 0.75, kappa: 0.5, n: 4, hallucinated: 0.5 });
  });

  it('renders one table per judge, a row per source, n/a for an undefined kappa', () => {
    const a = binaryAgreement([true, true], [true, true]);
    const md = judgeSection({
      haelm: { ...a, bySource: { synthetic: a }, training: { steps: 300, finalLoss: 0.1234, seconds: 60 } },
      rubric: { spearman: 0.81234, n: 10, unparsed: 2, meanScore: 7, meanExact: 8, judge: 'local judge LM', bySource: {} },
    }).join('\n');
    expect(md).toContain('## Open-set: judges');
    expect(md).toContain('300 steps, final loss 0.123');
    expect(md).toContain('| all | 1.000 | n/a | 2 | 1.000 |');
    expect(md).toContain('| synthetic | 1.000 | n/a | 2 | 1.000 |');
    expect(md).toContain('Rubric judge (local judge LM)');
    expect(md).toContain('| all | 0.812 | 10 | 2 | 7.000 | 8.000 |');
    expect(md.endsWith('\n')).toBe(false);
  });

  it('adds the raw-argmax row when the judge calls facts false at another margin', () => {
    const a = binaryAgreement([true, false], [true, false]);
    const raw = binaryAgreement([true, true], [true, false]);
    const haelm = { ...a, bySource: {}, training: { steps: 3, finalLoss: 0.5, seconds: 1 } };
    expect(judgeSection({ haelm: { ...haelm, verdictThreshold: 1.25, atZeroMargin: raw } }).join('\n')).toContain('| all, at margin 0 instead of 1.250 | 0.500 | 0.000 | 2 | 0.500 |');
    expect(judgeSection({ haelm }).join('\n')).not.toContain('at margin 0');
  });
});
