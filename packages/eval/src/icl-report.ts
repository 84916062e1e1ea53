/**
 * The few-shot (M-ICL) part of a run report: accuracy against the number of demonstrations,
 * one row per task in report.md and one line per task in icl-curve.svg.
 */
import type { IclResult } from './icl';
import { lineChartSvg } from './svg-chart';

/** The file name report.md links the curve under; writeReports writes it beside report.md. */
export const ICL_CURVE_FILE = 'icl-curve.svg';

function shotCounts(result: IclResult): string[] {
  const counts = new Set(Object.values(result.tasks).flatMap((t) => Object.keys(t.shots)));
  return [...counts].sort((a, b) => Number(a) - Number(b));
}

/** A task name as a markdown table cell: a "|" in it would end the cell. */
function tableCell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

function fmt(value: number | undefined): string {
  return value !== undefined && Number.isFinite(value) ? value.toFixed(3) : 'n/a';
}

/** The report.md section: a table of accuracy by task and shot count, the gain from 0 to the most shots, and the curve. */
export function iclMarkdown(result: IclResult): string[] {
  const shots = shotCounts(result);
  if (shots.length === 0) return [];
  const [first, last] = [shots[0]!, shots.at(-1)!];
  const header = ['task', ...shots.map((k) => `${k}-shot`), `${last}-shot - ${first}-shot`];
  const rows = Object.entries(result.tasks).map(([task, t]) => {
    const gain = (t.shots[last] ?? NaN) - (t.shots[first] ?? NaN);
    return [tableCell(task), ...shots.map((k) => fmt(t.shots[k])), fmt(gain)];
  });
  const copyRows = Object.entries(result.tasks)
    .filter(([, t]) => t.copy)
    .map(([task, t]) => [`${tableCell(task)}: copy a random demonstration`, ...shots.map((k) => (k in t.copy! ? fmt(t.copy![k]) : '')), '']);
  return [
    '## In-context learning (few-shot)',
    '',
    'Accuracy of the answer to a query asked after k demonstrations (image, question, answer), by task; a reply is right when its first word is the answer. The answer format or label mapping of each task is defined only by the demonstrations.',
    '',
    `| ${header.join(' | ')} |`,
    `| --- | ${header.slice(1).map(() => '---:').join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
    ...copyRows.map((r) => `| ${r.join(' | ')} |`),
    '',
    ...(copyRows.length > 0 ? ['The "copy a random demonstration" rows are what answering with the label of one of the shown demonstrations, picked at random, would score on the same prompts: accuracy above them comes from matching the query to the demonstrations.', ''] : []),
    `![accuracy against the number of demonstrations](${ICL_CURVE_FILE})`,
  ];
}

/** The curve as an SVG line chart: accuracy (0..1) against shots, one line per task. */
export function iclCurveSvg(result: IclResult): string {
  return lineChartSvg({
    title: 'in-context learning: accuracy by shots',
    xLabel: 'demonstrations (shots)',
    yLabel: 'accuracy',
    yDomain: [0, 1],
    series: Object.entries(result.tasks).map(([task, t]) => ({ name: task, points: Object.entries(t.shots).map(([k, acc]) => [Number(k), acc] as [number, number]) })),
  });
}
