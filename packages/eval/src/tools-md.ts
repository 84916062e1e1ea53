import { cell, fmt3, table } from './report-md';
import type { ToolsResult } from './tools';

/** The report.md section of `eval.tools`: accuracy with and without tools per question type, how the controller called, a sample trace per type. */
export function toolsSection(r: ToolsResult): string[] {
  const types = Object.keys(r.questions).sort();
  const rows = types.map((t) => [cell(t), fmt3(r.byType[t] ?? NaN), fmt3(r.withoutTools.byType[t] ?? NaN), String(r.questions[t])]);
  rows.push(['**all**', `**${fmt3(r.accuracy)}**`, `**${fmt3(r.withoutTools.accuracy)}**`, String(types.reduce((n, t) => n + r.questions[t]!, 0))]);
  const traces = (r.samples ?? []).flatMap((s) => [`- ${cell(s.type)} (answer: ${cell(s.answer)})`, ...s.trace.map((e) => `  - ${e.role}: \`${cell(e.text)}\``)]);
  return [
    '## With and without tools',
    '',
    `The model as ${r.paradigm === 'finetuned' ? 'a controller finetuned on tool-use traces' : 'a training-free controller (tool demonstrations in the prompt)'}, calling its vision tools, against the same questions answered without tools. ` +
      `Calls per question ${fmt3(r.callsPerAnswer)}, unparseable calls ${r.parseFailures}, calls answered with an error ${r.toolErrors}, unanswered ${r.unanswered}; the detector reads ${fmt3(r.detectorCellAccuracy)} of the test cells right.`,
    '',
    ...table(['type', 'with tools', 'without tools', 'n'], rows),
    ...(traces.length > 0 ? ['', 'One trace per question type:', '', ...traces] : []),
  ];
}

/** Rows of the after-each-stage comparison: tool accuracy per type, with and without tools. */
export function toolsMetricRows(evals: readonly { tools?: ToolsResult }[]): { kind: 'all'; metric: string; values: (number | undefined)[] }[] {
  const types = [...new Set(evals.flatMap((e) => Object.keys(e.tools?.questions ?? {})))].sort();
  return [
    ...types.flatMap((t) => [
      { kind: 'all' as const, metric: `tools ${t}, with tools`, values: evals.map((e) => e.tools?.byType[t]) },
      { kind: 'all' as const, metric: `tools ${t}, without tools`, values: evals.map((e) => e.tools?.withoutTools.byType[t]) },
    ]),
    { kind: 'all' as const, metric: 'tools accuracy, with tools', values: evals.map((e) => e.tools?.accuracy) },
  ];
}
