/**
 * A self-contained SVG line chart (training loss, metrics over steps) with nice-number
 * axes, grid, legend and one polyline per series. No DOM, no dependencies: the string can
 * be written to a .svg file or inlined in Markdown/HTML reports.
 */
import { formatTick, niceTicks } from './nice-ticks';
import type { Ticks } from './nice-ticks';

export interface ChartSeries {
  name: string;
  /** [x, y] points in drawing order; points with a non-finite coordinate are skipped. */
  points: [number, number][];
}

export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: ChartSeries[];
  width?: number;
  height?: number;
  /** Fixed y range (e.g. [0, 1] for accuracies); default: nice range of the data. */
  yDomain?: [number, number];
  /** Fixed x range; default: nice range of the data. */
  xDomain?: [number, number];
}

/** Space around the plot area, in pixels: title above, tick labels and axis labels, legend right. */
export const CHART_MARGIN = { top: 40, right: 140, bottom: 50, left: 64 } as const;

/** Tableau 10: distinct, colour-blind-friendlier than the default rainbow. */
const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];

function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Pixel coordinates to at most 2 decimals ("64", "175.5"). */
function px(v: number): string {
  return String(Number(v.toFixed(2)));
}

function finitePoints(s: ChartSeries): [number, number][] {
  return s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
}

function axisTicks(values: number[], domain: [number, number] | undefined): Ticks {
  if (domain) return niceTicks(domain[0], domain[1]);
  if (values.length === 0) return niceTicks(0, 1);
  return niceTicks(Math.min(...values), Math.max(...values));
}

/**
 * Render a line chart as an SVG string.
 *
 *   writeFileSync('loss.svg', lineChartSvg({ title: 'loss', xLabel: 'step', yLabel: 'loss',
 *     series: [{ name: 'align', points: [[0, 4.2], [100, 2.1]] }] }));
 */
export function lineChartSvg(options: LineChartOptions): string {
  const { title, xLabel, yLabel, series, width = 640, height = 360 } = options;
  const m = CHART_MARGIN;
  const [left, right, top, bottom] = [m.left, width - m.right, m.top, height - m.bottom];
  const data = series.map(finitePoints);
  const xt = axisTicks(data.flatMap((p) => p.map(([x]) => x)), options.xDomain);
  const yt = axisTicks(data.flatMap((p) => p.map(([, y]) => y)), options.yDomain);
  const sx = (x: number): number => left + ((x - xt.min) / (xt.max - xt.min)) * (right - left);
  const sy = (y: number): number => bottom - ((y - yt.min) / (yt.max - yt.min)) * (bottom - top);

  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${px(width / 2)}" y="24" text-anchor="middle" font-size="14" font-weight="bold">${escapeXml(title)}</text>`,
  ];
  for (const v of xt.values) {
    const x = px(sx(v));
    out.push(`<line x1="${x}" y1="${top}" x2="${x}" y2="${bottom}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${x}" y="${bottom + 16}" text-anchor="middle">${formatTick(v, xt)}</text>`);
  }
  for (const v of yt.values) {
    const y = px(sy(v));
    out.push(`<line x1="${left}" y1="${y}" x2="${right}" y2="${y}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${formatTick(v, yt)}</text>`);
  }
  out.push(`<line x1="${left}" y1="${bottom}" x2="${right}" y2="${bottom}" stroke="#333"/>`);
  out.push(`<line x1="${left}" y1="${top}" x2="${left}" y2="${bottom}" stroke="#333"/>`);
  out.push(`<text x="${px((left + right) / 2)}" y="${height - 12}" text-anchor="middle">${escapeXml(xLabel)}</text>`);
  out.push(
    `<text x="16" y="${px((top + bottom) / 2)}" text-anchor="middle" transform="rotate(-90 16 ${px((top + bottom) / 2)})">${escapeXml(yLabel)}</text>`,
  );

  series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length]!;
    // Past 10 series the colours repeat, so later cycles are dashed.
    const dash = i >= PALETTE.length ? ' stroke-dasharray="4 3"' : '';
    const points = data[i]!;
    if (points.length > 0) {
      const coords = points.map(([x, y]) => `${px(sx(x))},${px(sy(y))}`).join(' ');
      out.push(`<polyline fill="none" stroke="${color}" stroke-width="1.5"${dash} points="${coords}"/>`);
    }
    if (points.length === 1) {
      const [x, y] = points[0]!;
      out.push(`<circle cx="${px(sx(x))}" cy="${px(sy(y))}" r="3" fill="${color}"/>`);
    }
    const ly = top + 8 + i * 16;
    out.push(`<line x1="${right + 12}" y1="${ly}" x2="${right + 32}" y2="${ly}" stroke="${color}" stroke-width="2"${dash}/>`);
    const label = points.length === 0 ? `${s.name} (no data)` : s.name;
    out.push(`<text x="${right + 38}" y="${ly}" dominant-baseline="middle">${escapeXml(label)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n');
}
