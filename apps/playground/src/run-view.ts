import { marked } from 'marked';
import { lineChartSvg } from '@mllm/eval';
import type { PickedFolder } from './folder-input';

/**
 * A finished run folder the user picked: its report.md (tables rendered) and a loss curve per
 * stage from metrics.jsonl, drawn by @mllm/eval's lineChartSvg as `mllm run` draws loss-*.svg.
 */

/** The fields of a metrics.jsonl record the curves use (MetricRecord in @mllm/run). */
interface MetricPoint {
  stage: string;
  stageIndex: number;
  step: number;
  loss: number;
  valLoss?: number;
}

export async function renderRun(folder: PickedFolder, into: HTMLElement): Promise<void> {
  into.replaceChildren();
  const title = document.createElement('h3');
  title.textContent = `run: ${folder.name}`;
  into.append(title);
  const metrics = folder.files.get('metrics.jsonl');
  if (metrics) into.append(...lossCurves(parseMetrics(await metrics.text(), folder.name)));
  const report = folder.files.get('report.md');
  const body = document.createElement('div');
  body.className = 'report';
  // report.md is written by `mllm run` from numbers and config names; marked renders its tables
  body.innerHTML = report ? await marked.parse(await report.text()) : '<p>this run has no report.md yet (it is written after each evaluation)</p>';
  into.append(body);
}

export function parseMetrics(text: string, name: string): MetricPoint[] {
  return text
    .split('\n')
    .filter((line) => line.trim())
    .map((line, i) => {
      try {
        return JSON.parse(line) as MetricPoint;
      } catch {
        throw new Error(`${name}/metrics.jsonl line ${i + 1} is not JSON: the file is damaged (a run that was killed mid-write?)`);
      }
    });
}

function lossCurves(records: MetricPoint[]): HTMLElement[] {
  const stages = new Map<number, MetricPoint[]>();
  for (const r of records) stages.set(r.stageIndex, [...(stages.get(r.stageIndex) ?? []), r]);
  return [...stages.values()].map((points) => {
    const figure = document.createElement('figure');
    figure.className = 'curve';
    figure.innerHTML = lineChartSvg({
      title: `${points[0]!.stage}: loss`,
      xLabel: 'step',
      yLabel: 'loss',
      width: 480,
      height: 260,
      series: [
        { name: 'train', points: points.map((r) => [r.step + 1, r.loss]) },
        { name: 'validation', points: points.filter((r) => r.valLoss !== undefined).map((r) => [r.step + 1, r.valLoss!]) },
      ],
    });
    return figure;
  });
}
