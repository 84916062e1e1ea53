/** The report.md section of `eval.judge`: the judges' agreement with the exact checker, whole and per source. */
import type { BinaryAgreement, JudgeReport } from './judge-report';
import type { RubricAgreement } from './rubric-judge';

const num = (v: number) => (Number.isFinite(v) ? v.toFixed(3) : 'n/a');

function haelmRow(source: string, a: BinaryAgreement): string {
  return `| ${source} | ${num(a.accuracy)} | ${num(a.kappa)} | ${a.n} | ${num(a.hallucinated)} |`;
}

function rubricRow(source: string, r: RubricAgreement): string {
  return `| ${source} | ${num(r.spearman)} | ${r.n} | ${r.unparsed} | ${num(r.meanScore)} | ${num(r.meanExact)} |`;
}

export function judgeSection(j: JudgeReport): string[] {
  const out = ['## Open-set: judges', ''];
  if (j.haelm) {
    const h = j.haelm;
    out.push(
      `HaELM-style judge (a text-only LM trained here, ${h.training.steps} steps, final loss ${num(h.training.finalLoss)}, ${num(h.training.seconds)} s): does the response hallucinate, given the reference description? Agreement with the exact checker on held-out responses (test scenes); kappa discounts chance agreement.`,
      '',
      '| responses | accuracy | kappa | n | hallucinated (exact) |',
      '|---|---:|---:|---:|---:|',
      haelmRow('all', h),
      ...Object.entries(h.bySource).map(([k, a]) => haelmRow(k, a)),
      ...(h.atZeroMargin ? [haelmRow(`all, at margin 0 instead of ${num(h.verdictThreshold ?? 0)}`, h.atZeroMargin)] : []),
      '',
    );
  }
  if (j.rubric) {
    const r = j.rubric;
    out.push(
      `Rubric judge (${r.judge}): a 1-10 score per response; Spearman correlation with 10 x the response's FaithScore against the ground truth. Unparsed replies (no integer from 1 to 10) are left out and counted.`,
      '',
      '| responses | spearman | scored | unparsed | mean score | mean exact |',
      '|---|---:|---:|---:|---:|---:|',
      rubricRow('all', r),
      ...Object.entries(r.bySource).map(([k, a]) => rubricRow(k, a)),
      '',
    );
  }
  return out.slice(0, -1);
}
