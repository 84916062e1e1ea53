import type { CaptionPoolReport } from '@mllm/training';

const f3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : 'n/a');

/**
 * report.md's caption-data section: per align stage under `data.captions`, the pool's noise,
 * what CLIP filtering removed and how much of it was noise, or how good the recaptions are;
 * '' when no stage trained on such a pool.
 */
export function captionDataMarkdown(stages: readonly { name: string; captions?: CaptionPoolReport }[]): string {
  const withPool = stages.filter((s): s is { name: string; captions: CaptionPoolReport } => s.captions !== undefined);
  if (withPool.length === 0) return '';
  const lines = ['## Caption data', ''];
  for (const { name, captions: c } of withPool) {
    lines.push(`Stage ${name}: ${c.source} captions of ${c.scenes} images, trained on ${c.trainedOn} (pool built in ${c.seconds.toFixed(0)} s).`, '');
    const rows: string[] = [];
    if (c.noise) rows.push(`| noise asked / in the pool | ${f3(c.noise.asked)} / ${f3(c.noise.noisy)} (wrong ${f3(c.noise.wrong)}, unrelated ${f3(c.noise.unrelated)}) |`);
    if (c.filter) {
      const rule = c.filter.rule === 'threshold' ? `cosine >= ${c.filter.threshold}` : `top share, cut at cosine ${f3(c.filter.threshold)}`;
      rows.push(
        `| CLIP filter (${rule}) | removed ${c.filter.removed} of ${c.filter.pairs} (${f3(c.filter.removedShare)}) |`,
        `| removed pairs that were noise (precision) | ${f3(c.filter.precision)} |`,
        `| noisy pairs removed (recall) | ${f3(c.filter.recall)} |`,
        `| noise left in the kept pairs | ${f3(c.filter.keptNoise)} |`,
      );
    }
    if (c.recaption)
      rows.push(
        `| recaptions: CHAIR_i / CHAIR_s | ${f3(c.recaption.chairI)} / ${f3(c.recaption.chairS)} (the web captions' CHAIR_i ${f3(c.recaption.sourceChairI)}) |`,
        `| recaptions: objects covered, identical to the fine caption | ${f3(c.recaption.recall)}, ${f3(c.recaption.exact)} |`,
      );
    if (rows.length > 0) lines.push('| | |', '| --- | --- |', ...rows, '');
  }
  return lines.join('\n');
}
