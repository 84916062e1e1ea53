import { describe, it, expect } from 'vitest';
import { numericLeaves, sectionMetrics, sectionsMarkdown } from './sweep-sections';

describe('sweep: the other report sections', () => {
  it('flattens a section to its numeric leaves, leaving out samples and non-numbers', () => {
    const tools = { accuracy: 0.9, byType: { spatial: 0.95, count: 0.85 }, samples: [{ a: 1 }], note: 'x', nan: Number.NaN };
    expect(numericLeaves(tools, 'tools')).toEqual([
      ['tools.accuracy', 0.9],
      ['tools.byType.spatial', 0.95],
      ['tools.byType.count', 0.85],
    ]);
  });

  it('gives mean and sample standard deviation over seeds, only for metrics every seed has', () => {
    const seeds = [
      { pope: { random: { accuracy: 1 } }, icl: { tasks: { colorWord: { shots: { '0': 0.2, '4': 0.6 } } } } },
      { icl: { tasks: { colorWord: { shots: { '0': 0.4, '4': 0.8 } } } }, tools: { accuracy: 1 } },
    ];
    const metrics = sectionMetrics(seeds);
    expect(Object.keys(metrics)).toEqual(['icl.tasks.colorWord.shots.0', 'icl.tasks.colorWord.shots.4']);
    expect(metrics['icl.tasks.colorWord.shots.4']!.mean).toBeCloseTo(0.7, 12);
    expect(metrics['icl.tasks.colorWord.shots.4']!.std).toBeCloseTo(Math.sqrt(0.02), 12);
  });

  it('renders one line per config and metric, and nothing when no run has the sections', () => {
    expect(sectionsMarkdown([{ name: 'default', sections: {} }], 3)).toBe('');
    const md = sectionsMarkdown([{ name: 'tools', sections: { 'tools.accuracy': { mean: 0.9, std: 0.01 } } }], 3);
    expect(md).toContain('| tools | tools.accuracy | 0.900 ± 0.010 |');
    expect(sectionsMarkdown([{ name: 'tools', sections: { 'tools.accuracy': { mean: 0.9, std: 0 } } }], 1)).toContain('| tools | tools.accuracy | 0.900 |');
  });
});
