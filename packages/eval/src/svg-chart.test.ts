import { describe, expect, it } from 'vitest';
import { lineChartSvg } from './svg-chart';

const count = (s: string, needle: string): number => s.split(needle).length - 1;

/** Every opening tag is closed or self-closing: a cheap well-formedness check. */
function balanced(svg: string): boolean {
  const stack: string[] = [];
  for (const [, close, name, selfClose] of svg.matchAll(/<(\/?)([a-z]+)[^>]*?(\/?)>/g)) {
    if (selfClose) continue;
    if (!close) stack.push(name!);
    else if (stack.pop() !== name) return false;
  }
  return stack.length === 0;
}

describe('lineChartSvg', () => {
  const base = { title: 'Loss', xLabel: 'step', yLabel: 'loss' };

  it('draws axes, nice tick labels, a legend and one polyline per series', () => {
    const svg = lineChartSvg({
      ...base,
      series: [
        { name: 'align', points: [[0, 0], [5, 0.5], [10, 1]] },
        { name: 'instruct', points: [[0, 0.9], [10, 0.1]] },
      ],
    });
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.endsWith('</svg>')).toBe(true);
    expect(balanced(svg)).toBe(true);
    expect(count(svg, '<polyline')).toBe(2);
    for (const label of ['0', '2', '4', '6', '8', '10']) expect(svg).toContain(`text-anchor="middle">${label}</text>`);
    for (const label of ['0.0', '0.2', '0.4', '0.6', '0.8', '1.0']) expect(svg).toContain(`>${label}</text>`);
    expect(svg).toContain('>align</text>');
    expect(svg).toContain('>instruct</text>');
    expect(svg).toContain('stroke="#4e79a7"');
    expect(svg).toContain('stroke="#f28e2b"');
  });

  it('maps data to pixels through the nice domain (golden values)', () => {
    // 640 x 360 with margins left 64, right 140, top 40, bottom 50: plot x 64..500, y 40..310.
    // Domain x 0..10, y 0..1: (0,0) -> (64,310), (5,0.5) -> (282,175), (10,1) -> (500,40).
    const svg = lineChartSvg({ ...base, series: [{ name: 'a', points: [[0, 0], [5, 0.5], [10, 1]] }] });
    expect(svg).toContain('points="64,310 282,175 500,40"');
  });

  it('skips NaN and infinite points', () => {
    const svg = lineChartSvg({ ...base, series: [{ name: 'a', points: [[0, 0], [5, Number.NaN], [Infinity, 1], [10, 1]] }] });
    expect(svg).toContain('points="64,310 500,40"');
  });

  it('handles empty series, single points and no series without throwing', () => {
    const svg = lineChartSvg({
      ...base,
      series: [
        { name: 'empty', points: [] },
        { name: 'one', points: [[3, 2]] },
        { name: 'nan', points: [[Number.NaN, Number.NaN]] },
      ],
    });
    expect(balanced(svg)).toBe(true);
    expect(count(svg, '<polyline')).toBe(1);
    expect(count(svg, '<circle')).toBe(1);
    expect(svg).toContain('>empty (no data)</text>');
    expect(svg).toContain('>nan (no data)</text>');
    const none = lineChartSvg({ ...base, series: [] });
    expect(none.startsWith('<svg')).toBe(true);
    expect(count(none, '<polyline')).toBe(0);
  });

  it('honours a fixed y domain and escapes text', () => {
    const svg = lineChartSvg({ ...base, title: 'a < b & c', yDomain: [0, 1], series: [{ name: 'acc', points: [[0, 0.5], [10, 0.5]] }] });
    expect(svg).toContain('>a &lt; b &amp; c</text>');
    expect(svg).toContain('points="64,175 500,175"');
  });
});
