/**
 * A run's Markdown summary: setup (backend, seed, config), one row per training stage, then
 * POPE per negative sampling, CHAIR, detailed descriptions and closed-set accuracy by question
 * type. With evaluations after several stages (instruct, then alignment), a table first puts
 * them side by side, grouped by hallucination kind. Numbers to 3 decimals; the text is meant
 * to be committed next to the run's charts and diffed.
 */
import type { ChairResult } from './chair';
import { ATTRIBUTE_KINDS } from './attribute-chair';
import { FACT_KINDS, type FaithScoreResult } from './faith-score';
import type { ClosedSetResult } from './closed-set';
import type { DetailReport, EvalReport, PopeSampling } from './evaluate';
import { POPE_SAMPLINGS } from './evaluate';
import { HALLUCINATION_KINDS, KIND_QUESTION_TYPES, hallucinationByKind } from './hallucination-kinds';
import type { HallucinationKind } from './hallucination-kinds';
import type { AttributeRates, ExpertTextReport } from './attribute-rates';
import type { PopeMetrics } from './pope';
import type { ReasoningResult } from './reasoning';
import { judgeSection } from './judge-report-md';
import { toolsMetricRows, toolsSection } from './tools-md';
import { iclMarkdown } from './icl-report';
import { heldOutSection } from './held-out-md';

export interface StageSummary {
  name: string;
  type?: string;
  steps: number;
  finalLoss: number;
  seconds: number;
  /** Held-out measurements beyond the loss (an alignment stage's reward accuracy, mean reward). */
  heldOut?: Record<string, number>;
}

export interface RunReport {
  /** The tfjs backend the run used (always recorded: timings depend on it). */
  backend: string;
  seed: number;
  /** Path or name of the run config. */
  config?: string;
  stages: StageSummary[];
  /** The final evaluation (detailed in full). */
  eval?: ReportEval;
  /**
   * Evaluations after successive stages, in run order, compared side by side; the last is
   * normally `eval`. Without `eval`, the last one is detailed in full.
   */
  evals?: StageEval[];
  wallSeconds?: number;
  /** What the numbers depend on beyond config and seed; a run repeats bit for bit where all of it matches. */
  environment?: ReportEnvironment;
}

/** A run's environment as the report prints it (`@mllm/run` records it in report.json). */
export interface ReportEnvironment {
  node: string;
  platform: string;
  cpu: string;
  matMul: { engine: string; threads: number };
  workers: number;
  versions: Record<string, string>;
  /** What changed when the run was resumed (`name: before -> now`). */
  resumedAcross?: string[];
}

function environmentLines(env: ReportEnvironment): string[] {
  const versions = Object.entries(env.versions).map(([name, version]) => `${name} ${version}`).join(', ');
  const lines = [
    `- environment: node ${env.node} on ${env.platform} (${env.cpu}), matMul on ${env.matMul.engine} with ${env.matMul.threads} thread(s), ${env.workers} data-parallel participant(s); ${versions}`,
  ];
  if (env.resumedAcross?.length) lines.push(`- resumed in another environment: ${env.resumedAcross.join(', ')}`);
  return lines;
}

/** Evaluation scores as a report renders them; all but the scores is optional, so stored (older) reports render. */
export type ReportEval = Pick<EvalReport, 'pope' | 'chair' | 'closedSet'> &
  Partial<Pick<EvalReport, 'samples' | 'detail' | 'byKind' | 'reasoning' | 'openSet' | 'judge' | 'tools' | 'icl' | 'heldOut'>> & { expert?: ExpertTextReport };

/** One evaluation labelled by the stage it follows, e.g. `{ after: '3-instruct', eval }`. */
export interface StageEval {
  after: string;
  eval: ReportEval;
}

/** 3 decimals; non-finite values print as "n/a". */
export function fmt3(value: number): string {
  return Number.isFinite(value) ? value.toFixed(3) : 'n/a';
}

/** Markdown table cell: pipes and newlines would break the row. */
export function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/** A Markdown table; the first `textColumns` columns align left, the numeric rest right. */
export function table(header: string[], rows: string[][], textColumns = 1): string[] {
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
      ['stage', 'type', 'steps', 'final loss', 'seconds', ...(stages.some((s) => s.heldOut) ? ['held out'] : [])],
      stages.map((s) => [
        cell(s.name),
        cell(s.type ?? ''),
        String(s.steps),
        fmt3(s.finalLoss),
        fmt3(s.seconds),
        ...(stages.some((t) => t.heldOut) ? [cell(Object.entries(s.heldOut ?? {}).map(([k, v]) => `${k} ${fmt3(v)}`).join(', '))] : []),
      ]),
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

/** Wrong colour / size / position shares with their counts, e.g. "0.012 (2/170)"; n/a in reports from before attribute CHAIR. */
function attributeCells(c: ChairResult): string[] {
  return ATTRIBUTE_KINDS.map((k) => (c.byAttribute && c.attributes ? `${fmt3(c.byAttribute[k])} (${c.attributes.wrong[k]}/${c.attributes.stated[k]})` : 'n/a'));
}
const ATTRIBUTE_HEADERS = ['wrong colour', 'wrong size', 'wrong position'];

function chairSection(c: ChairResult): string[] {
  return [
    '## CHAIR',
    '',
    'Attributes: the share of colours, sizes and positions stated about objects that are there which are wrong (attribute CHAIR).',
    '',
    ...table(
      ['CHAIR_i', 'CHAIR_s', 'coverage', 'captions', 'mentions', 'hallucinated', ...ATTRIBUTE_HEADERS],
      [[fmt3(c.chairI), fmt3(c.chairS), fmt3(c.coverage), String(c.captions), String(c.mentions), String(c.hallucinated), ...attributeCells(c)]],
    ),
  ];
}

function closedSetSection(r: ClosedSetResult): string[] {
  const rows = Object.entries(r.byType).map(([type, t]) => [cell(type), fmt3(t.accuracy), String(t.n)]);
  rows.push(['**all**', `**${fmt3(r.accuracy)}**`, String(r.n)]);
  return ['## Closed-set accuracy', '', ...table(['type', 'accuracy', 'n'], rows)];
}

function reasoningSection(r: ReasoningResult): string[] {
  const types = [...new Set([...Object.keys(r.direct.byType), ...Object.keys(r.chain.byType)])];
  const gain = (type: string) => (r.chain.byType[type]?.accuracy ?? NaN) - (r.direct.byType[type]?.accuracy ?? NaN);
  const rows = types.map((type) => [cell(type), fmt3(r.direct.byType[type]?.accuracy ?? NaN), fmt3(r.chain.byType[type]?.accuracy ?? NaN), fmt3(gain(type)), String(r.direct.byType[type]?.n ?? 0)]);
  rows.push(['**all**', `**${fmt3(r.direct.accuracy)}**`, `**${fmt3(r.chain.accuracy)}**`, `**${fmt3(r.chain.accuracy - r.direct.accuracy)}**`, String(r.direct.n)]);
  return [
    '## With and without reasoning',
    '',
    `Each question asked directly and with the step-by-step prompt; a chain is scored on its final answer, which ${fmt3(r.answered)} of them gave. ` +
      `Inconsistent chains (final answer not the one their own steps imply, or none): ${fmt3(r.inconsistent)}.`,
    '',
    ...table(['type', 'direct', 'chain', 'chain - direct', 'n'], rows),
  ];
}

function samplesSection(captions: { sceneId: string; caption: string }[]): string[] {
  if (captions.length === 0) return [];
  return ['## Sample captions', '', ...table(['scene', 'caption'], captions.map((c) => [cell(c.sceneId), cell(c.caption)]), 2)];
}

function detailSection(d: DetailReport): string[] {
  const k = d.kinds;
  const rate = (kind: HallucinationKind) => (k ? fmt3(k.rates[kind]) : 'n/a');
  return [
    '## Detailed descriptions',
    '',
    'CHAIR on one detailed description per scene; per kind, the share of claims hallucinated with that kind.',
    '',
    ...table(
      ['CHAIR_i', 'CHAIR_s', 'coverage', 'descriptions', 'claims', 'existence', 'attribute', 'relationship', ...ATTRIBUTE_HEADERS],
      [[fmt3(d.chair.chairI), fmt3(d.chair.chairS), fmt3(d.chair.coverage), String(d.chair.captions), k ? String(k.claims) : 'n/a', rate('existence'), rate('attribute'), rate('relationship'), ...attributeCells(d.chair)]],
    ),
    ...(d.attributes ? ['', 'What the descriptions get right per object attribute (claims matched to objects by cell):', '', ...attributeTable(d.attributes)] : []),
  ];
}

/** Accuracy per attribute, one column each, with the chances it divides by. */
function attributeTable(r: AttributeRates): string[] {
  const names = Object.keys(r.accuracy);
  return table(['', ...names], [['accuracy', ...names.map((a) => fmt3(r.accuracy[a]!))], ['chances', ...names.map((a) => String(r.totals[a]))]]);
}

/** The expert bridge's own text: what it lets through, per attribute, and samples of it. */
function expertSection(x: ExpertTextReport): string[] {
  return [
    '## Expert text',
    '',
    "What the expert bridge's captions get right per object attribute: all the LLM learns of an image.",
    '',
    ...attributeTable(x.attributes),
    '',
    ...table(['scene', 'expert text'], x.samples.map((s) => [cell(s.sceneId), cell(s.text)]), 2),
  ];
}

function openSetSection(o: NonNullable<ReportEval['openSet']>): string[] {
  const f = o.faithScore;
  const row = (name: string, r: FaithScoreResult) => [name, fmt3(r.score), ...FACT_KINDS.map((k) => `${fmt3(r.byKind[k])} (${r.factsByKind[k]})`), String(r.textsWithoutFacts)];
  return [
    '## Open-set: FaithScore',
    '',
    'The detailed descriptions split into atomic facts, each verified against the scene (FaithScore, Jing et al. 2023); the share verified, overall and per kind (facts in brackets).',
    '',
    ...table(['verified against', 'score', ...FACT_KINDS, 'descriptions without facts'], [row('ground truth', f), ...(f.learned ? [row('learned view', f.learned)] : [])]),
  ];
}

function descriptionSamplesSection(samples: { sceneId: string; description: string }[]): string[] {
  if (samples.length === 0) return [];
  return ['## Sample descriptions', '', ...table(['scene', 'description'], samples.map((s) => [cell(s.sceneId), cell(s.description)]), 2)];
}

/** One comparison row: the kind it probes ('all' for none), what it is, and a score per evaluation. */
interface MetricRow {
  kind: HallucinationKind | 'all';
  metric: string;
  values: (number | undefined)[];
}

/**
 * The rows of the side-by-side table, grouped by kind; a row no evaluation has a value for
 * (a set without descriptions, a question type never asked) is dropped.
 */
function metricRows(evals: readonly ReportEval[]): MetricRow[] {
  const byKind = evals.map((e) => hallucinationByKind(e));
  const row = (kind: MetricRow['kind'], metric: string, value: (e: ReportEval, i: number) => number | undefined): MetricRow => ({
    kind,
    metric,
    values: evals.map(value),
  });
  const closed = (e: ReportEval, type: string) => e.closedSet.byType[type]?.accuracy;
  const rows: MetricRow[] = [
    ...POPE_SAMPLINGS.map((s) => row('existence', `POPE accuracy, ${s}`, (e) => (e.pope[s].n === 0 ? undefined : e.pope[s].accuracy))),
    row('existence', 'caption CHAIR_i', (e) => e.chair.chairI),
    row('existence', 'detail CHAIR_i', (e) => e.detail?.chair.chairI),
    ...ATTRIBUTE_KINDS.map((k) => row('attribute', `detail wrong ${k === 'color' ? 'colour' : k}`, (e) => e.detail?.chair.byAttribute?.[k])),
  ];
  for (const kind of HALLUCINATION_KINDS) {
    rows.push(row(kind, `detail ${kind} rate`, (_, i) => byKind[i]![kind].detailRate));
    rows.push(row(kind, `closed-set ${KIND_QUESTION_TYPES[kind]}`, (e) => closed(e, KIND_QUESTION_TYPES[kind])));
  }
  rows.push(row('all', 'caption CHAIR_s', (e) => e.chair.chairS), row('all', 'detail CHAIR_s', (e) => e.detail?.chair.chairS));
  const kindTypes = new Set(Object.values(KIND_QUESTION_TYPES));
  const otherTypes = [...new Set(evals.flatMap((e) => Object.keys(e.closedSet.byType)))].filter((t) => !kindTypes.has(t));
  for (const type of otherTypes) rows.push(row('all', `closed-set ${type}`, (e) => closed(e, type)));
  rows.push(row('all', 'closed-set accuracy', (e) => e.closedSet.accuracy));
  const reasoningTypes = [...new Set(evals.flatMap((e) => Object.keys(e.reasoning?.direct.byType ?? {})))];
  for (const type of reasoningTypes) {
    rows.push(row('all', `${type}, asked directly`, (e) => e.reasoning?.direct.byType[type]?.accuracy));
    rows.push(row('all', `${type}, chain`, (e) => e.reasoning?.chain.byType[type]?.accuracy));
  }
  if (reasoningTypes.length > 0) rows.push(row('all', 'inconsistent chains', (e) => e.reasoning?.inconsistent));
  rows.push(...toolsMetricRows(evals));
  return rows.filter((r) => r.values.some((v) => v !== undefined));
}

const LOWER_IS_BETTER = 'POPE and closed-set scores are accuracies (higher is better); CHAIR and detail rates are shares of hallucinated mentions or claims (lower is better).';

function rowsTable(rows: MetricRow[], columns: string[]): string[] {
  return table(['kind', 'metric', ...columns.map(cell)], rows.map((r) => [r.kind, cell(r.metric), ...r.values.map((v) => (v === undefined ? 'n/a' : fmt3(v)))]), 2);
}

/** The evaluations side by side, one column per stage they follow. */
function comparisonSection(evals: readonly StageEval[]): string[] {
  return [
    '## Evaluation after each stage',
    '',
    `${LOWER_IS_BETTER} The sections below detail the last evaluation (after ${cell(evals.at(-1)!.after)}).`,
    '',
    ...rowsTable(metricRows(evals.map((e) => e.eval)), evals.map((e) => `after ${e.after}`)),
  ];
}

/** One evaluation's scores grouped by hallucination kind (worth a table once descriptions are judged). */
function kindSection(e: ReportEval): string[] {
  if (!e.detail) return [];
  const rows = metricRows([e]).filter((r) => r.kind !== 'all');
  return ['## Hallucination by kind', '', LOWER_IS_BETTER, '', ...rowsTable(rows, ['score'])];
}

function evalSections(e: ReportEval, compared: boolean): string[][] {
  return [
    popeSection(e.pope),
    chairSection(e.chair),
    e.detail ? detailSection(e.detail) : [],
    e.openSet ? openSetSection(e.openSet) : [],
    e.expert ? expertSection(e.expert) : [],
    e.judge ? judgeSection(e.judge) : [],
    compared ? [] : kindSection(e),
    closedSetSection(e.closedSet),
    e.reasoning ? reasoningSection(e.reasoning) : [],
    e.tools ? toolsSection(e.tools) : [],
    e.icl ? iclMarkdown(e.icl) : [],
    e.heldOut ? heldOutSection(e.heldOut) : [],
    samplesSection(e.samples?.captions ?? []),
    descriptionSamplesSection(e.detail?.samples ?? []),
  ];
}

/** Render a run report as Markdown (sections separated by blank lines, ending in a newline). */
export function reportMarkdown(report: RunReport): string {
  const setup = [`- backend: \`${report.backend}\``, `- seed: ${report.seed}`];
  if (report.config !== undefined) setup.push(`- config: \`${report.config}\``);
  if (report.wallSeconds !== undefined) setup.push(`- wall time: ${fmt3(report.wallSeconds)} s`);
  if (report.environment) setup.push(...environmentLines(report.environment));
  const sections: string[][] = [['# Run report', '', ...setup], stagesSection(report.stages)];
  const evals = report.evals ?? [];
  const last = report.eval ?? evals.at(-1)?.eval;
  if (evals.length > 0) sections.push(comparisonSection(evals));
  if (last) {
    sections.push(...evalSections(last, evals.length > 0));
  } else {
    sections.push(['## Evaluation', '', 'Not evaluated.']);
  }
  return `${sections
    .filter((s) => s.length > 0)
    .map((s) => s.join('\n'))
    .join('\n\n')}\n`;
}
