import type { EvalReport } from '@mllm/eval';

/** The evaluation summary `mllm run`, `mllm eval` and `mllm eval --runtime onnx` print. */
export function printSummary(r: EvalReport, out: string, wallSeconds?: number, backend?: string): void {
  const f = (x: number) => x.toFixed(3);
  const lines = [
    '',
    ...(['random', 'popular', 'adversarial'] as const).map(
      (s) => `POPE ${s.padEnd(11)} acc ${f(r.pope[s].accuracy)}  F1 ${f(r.pope[s].f1)}  precision ${f(r.pope[s].precision)}  recall ${f(r.pope[s].recall)}  yes ${f(r.pope[s].yesRatio)}`,
    ),
    `CHAIR      CHAIR_i ${f(r.chair.chairI)}  CHAIR_s ${f(r.chair.chairS)}  (${r.chair.captions} captions)`,
    ...(r.detail
      ? [
          `detail     CHAIR_i ${f(r.detail.chair.chairI)}  CHAIR_s ${f(r.detail.chair.chairS)}` +
            (r.detail.kinds ? `  hallucinated claims: existence ${f(r.detail.kinds.rates.existence)}  attribute ${f(r.detail.kinds.rates.attribute)}  relationship ${f(r.detail.kinds.rates.relationship)}` : ''),
        ]
      : []),
    ...(r.detail?.chair.byAttribute ? [`detail     wrong colour ${f(r.detail.chair.byAttribute.color)}  size ${f(r.detail.chair.byAttribute.size)}  position ${f(r.detail.chair.byAttribute.position)}`] : []),
    ...(r.openSet ? [`FaithScore ${f(r.openSet.faithScore.score)}  ${Object.entries(r.openSet.faithScore.byKind).map(([k, v]) => `${k} ${f(v)}`).join('  ')}`] : []),
    `closed-set accuracy ${f(r.closedSet.accuracy)}  ${Object.entries(r.closedSet.byType).map(([k, v]) => `${k} ${f(v.accuracy)}`).join('  ')}`,
    ...(r.reasoning
      ? [`reasoning  direct ${f(r.reasoning.direct.accuracy)}  chain ${f(r.reasoning.chain.accuracy)}  inconsistent ${f(r.reasoning.inconsistent)}  (${Object.keys(r.reasoning.direct.byType).map((k) => `${k} ${f(r.reasoning!.direct.byType[k]!.accuracy)} / ${f(r.reasoning!.chain.byType[k]?.accuracy ?? 0)}`).join('  ')})`]
      : []),
    ...(wallSeconds !== undefined ? [`wall time ${wallSeconds.toFixed(0)} s on ${backend}`] : []),
    `written to ${out}`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
}
