import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ICL_CURVE_FILE, iclCurveSvg, lineChartSvg, reportMarkdown, type EvalReport } from '@mllm/eval';
import type { SkippedReport, StageResult } from '@mllm/training';
import type { SelfInstructStats } from '@mllm/data';
import type { MetricRecord } from './metrics-log';
import type { RunEnvironment } from './environment';
import { throughputMarkdown, type MemoryEstimateReport } from './report-throughput';
import { selfInstructMarkdown } from './self-instruct-md';
import { captionDataMarkdown } from './caption-data-md';
import type { MitigationResult } from './mitigation-eval';
import { mitigationMarkdown, mitigationRows } from './mitigation-md';

export interface RunReportJson {
  backend: string;
  seed: number;
  /** What the numbers depend on beyond config and seed (versions, matMul engine and threads); `resumedAcross` lists what changed at a --resume. */
  environment?: RunEnvironment & { resumedAcross?: string[] };
  config: string;
  wallSeconds: number;
  parameters: { total: number; encoder: number; connector: number; llm: number };
  /** What the image becomes for the LLM: tokensPerImage spliced tokens (0: only fusion layers read its encoderTokens features). */
  connector: { type: string; kind: 'token-connector' | 'fusion-connector'; tokensPerImage: number; encoderTokens: number };
  /** Each stage's `throughput` holds its seconds a step, tokens/s, images/s and peak memory. */
  stages: (StageResult & { tokensPerSecond: number })[];
  /** Each stage's memory as estimated before training, and the limit it was checked against. */
  memoryEstimate?: MemoryEstimateReport;
  /**
   * `skipped`: present when a stage reads LLaVA files, per file the records left out as bad samples
   * (`file:line: reason`); `selfInstruct`: present with self-instructed data, the pairs written, kept and dropped per reason.
   */
  data?: { skipped?: Record<string, SkippedReport>; selfInstruct?: SelfInstructStats };
  /** The final evaluation (after the last stage); with `eval.mitigation` in the config, each method's evaluation under `mitigation`. */
  eval?: EvalReport & { seconds: number; mitigation?: Record<string, MitigationResult> };
  /**
   * Evaluations after instruct and after each alignment stage, in run order, rendered side by
   * side in report.md; the last one is `eval`.
   */
  evals?: { after: string; eval: EvalReport & { seconds: number; mitigation?: Record<string, MitigationResult> } }[];
}

/** report.json's `data`, holding what is present of skipped LLaVA records and self-instruction counts (absent when neither is). */
export function dataReport(skipped?: Record<string, SkippedReport>, selfInstruct?: SelfInstructStats): Pick<RunReportJson, 'data'> {
  return skipped || selfInstruct ? { data: { ...(skipped && { skipped }), ...(selfInstruct && { selfInstruct }) } } : {};
}

/** report.md: the evaluation's report, then each stage's speed and memory, then the align stages' caption pools and what self-instruction kept. */
export function runReportMarkdown(report: RunReportJson): string {
  const speed = throughputMarkdown(report.stages, report.memoryEstimate);
  const base = speed ? `${reportMarkdown(report).trimEnd()}\n\n${speed}` : reportMarkdown(report);
  const extra = [mitigationMarkdown(mitigationRows([report.eval?.mitigation]), 1), captionDataMarkdown(report.stages), selfInstructMarkdown(report.data?.selfInstruct)].filter((md) => md !== '');
  return extra.length > 0 ? `${base.trimEnd()}\n\n${extra.join('\n')}` : base;
}

/** report.json, report.md, one loss-curve SVG per stage and, with a few-shot evaluation, its curve. */
export async function writeReports(dir: string, report: RunReportJson, metrics: MetricRecord[]): Promise<string[]> {
  const written = ['report.json', 'report.md'];
  await writeFile(join(dir, 'report.json'), JSON.stringify(report, null, 2));
  await writeFile(join(dir, 'report.md'), runReportMarkdown(report));
  if (report.eval?.icl) {
    await writeFile(join(dir, ICL_CURVE_FILE), iclCurveSvg(report.eval.icl));
    written.push(ICL_CURVE_FILE);
  }
  for (const [i, stage] of report.stages.entries()) {
    const records = metrics.filter((m) => m.stageIndex === i);
    if (records.length === 0) continue;
    const svg = lineChartSvg({
      title: `${stage.name}: loss`,
      xLabel: 'step',
      yLabel: 'loss',
      series: [
        { name: 'train', points: records.map((r) => [r.step + 1, r.loss] as [number, number]) },
        { name: 'validation', points: records.filter((r) => r.valLoss !== undefined).map((r) => [r.step + 1, r.valLoss!] as [number, number]) },
      ],
    });
    const file = `loss-${stage.name}.svg`;
    await writeFile(join(dir, file), svg);
    written.push(file);
  }
  return written;
}
