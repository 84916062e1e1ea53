/**
 * A run's Markdown summary: setup (backend, seed, config), one row per training stage, then
 * POPE per negative sampling, CHAIR and closed-set accuracy by question type. Numbers to 3
 * decimals; the text is meant to be committed next to the run's charts and diffed.
 */
import type { ChairResult } from './chair';
import type { ClosedSetResult } from './closed-set';
import type { EvalReport, PopeSampling } from './evaluate';
import { POPE_SAMPLINGS } from './evaluate';
import type { PopeMetrics } from './pope';

export interface StageSummary {
  name: string;
  type?: string;
  steps: number;
  finalLoss: number;
  seconds: number;
}

export interface RunReport {
  /** The tfjs backend the run used (always recorded: timings depend on it). */
  backend: string;
  seed: number;
  /** Path or name of the run config. */
  config?: string;
  stages: StageSummary[];
  /** Evaluation results; `samples` is optional so a stored report's scores are enough. */
  eval?: Pick<EvalReport, 'pope' | 'chair' | 'closedSet'> & Partial<Pick<EvalReport, 'samples'>>;
  wallSeconds?: number;
}

/** 3 decimals; non-finite values print as "n/a". */
export function fmt3(value: number): string {
  return Number.isFinite(value) ? value.toFixed(3) : 'n/a';
}

/** Markdown table cell: pipes and newlines would break the row. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/** A Markdown table; the first `textColumns` columns align left, the numeric rest right. */
function table(header: string[], rows: string[][], textColumns = 1): string[] {
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map((_, i) => (i < textColumns ? '---' : '---:')).join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ];
}

function stagesSection(stages: StageSummary[]): string[] {
  if (stages.length === 0) return ['## Stages', '', 'No training stages.'];
  return [
    '## Stages',
    '',
    ...table(
      ['stage', 'type', 'steps', 'final loss', 'seconds'],
      stages.map((s) => [cell(s.name), cell(s.type ?? ''), String(s.steps), fmt3(s.finalLoss), fmt3(s.seconds)]),
      2,
    ),
  ];
}

function popeSection(pope: Record<PopeSampling, PopeMetrics>): string[] {
  return [
    '## POPE',
    '',
    ...table(
      ['sampling', 'accuracy', 'precision', 'recall', 'F1', 'yes-ratio', 'n'],
      POPE_SAMPLINGS.map((s) => {
        const m = pope[s];
        // An empty split has no scores; 0.000 would read as a failing model.
        const f = (v: number): string => (m.n === 0 ? 'n/a' : fmt3(v));
        return [s, f(m.accuracy), f(m.precision), f(m.recall), f(m.f1), f(m.yesRatio), String(m.n)];
      }),
    ),
  ];
}

function chairSection(c: ChairResult): string[] {
  return [
    '## CHAIR',
    '',
    ...table(
      ['CHAIR_i', 'CHAIR_s', 'coverage', 'captions', 'mentions', 'hallucinated'],
      [[fmt3(c.chairI), fmt3(c.chairS), fmt3(c.coverage), String(c.captions), String(c.mentions), String(c.hallucinated)]],
    ),
  ];
}

function closedSetSection(r: ClosedSetResult): string[] {
  const rows = Object.entries(r.byType).map(([type, t]) => [cell(type), fmt3(t.accuracy), String(t.n)]);
  rows.push(['**all**', `**${fmt3(r.accuracy)}**`, String(r.n)]);
  return ['## Closed-set accuracy', '', ...table(['type', 'accuracy', 'n'], rows)];
}

function samplesSection(captions: { sceneId: string; caption: string }[]): string[] {
  if (captions.length === 0) return [];
  return ['## Sample captions', '', ...table(['scene', 'caption'], captions.map((c) => [cell(c.sceneId), cell(c.caption)]), 2)];
}

/** Render a run report as Markdown (sections separated by blank lines, ending in a newline). */
export function reportMarkdown(report: RunReport): string {
  const setup = [`- backend: \`${report.backend}\``, `- seed: ${report.seed}`];
  if (report.config !== undefined) setup.push(`- config: \`${report.config}\``);
  if (report.wallSeconds !== undefined) setup.push(`- wall time: ${fmt3(report.wallSeconds)} s`);
  const sections: string[][] = [['# Run report', '', ...setup], stagesSection(report.stages)];
  if (report.eval) {
    sections.push(popeSection(report.eval.pope), chairSection(report.eval.chair), closedSetSection(report.eval.closedSet));
    sections.push(samplesSection(report.eval.samples?.captions ?? []));
  } else {
    sections.push(['## Evaluation', '', 'Not evaluated.']);
  }
  return `${sections
    .filter((s) => s.length > 0)
    .map((s) => s.join('\n'))
    .join('\n\n')}\n`;
}
