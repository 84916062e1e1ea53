import type { SelfInstructStats } from '@mllm/data';
import { SELF_INSTRUCT_DROPS } from '@mllm/data/internal';

/** report.md's self-instruction section: pairs written, kept, and dropped per filter reason; '' without self-instructed data. */
export function selfInstructMarkdown(stats: SelfInstructStats | undefined): string {
  if (!stats) return '';
  const share = (n: number) => (stats.generated > 0 ? `${((100 * n) / stats.generated).toFixed(1)}%` : 'n/a');
  const rows = SELF_INSTRUCT_DROPS.map((reason) => `| dropped: ${reason} | ${stats.dropped[reason]} | ${share(stats.dropped[reason])} |`);
  return [
    '## Self-instructed data',
    '',
    `A teacher wrote ${stats.generated} instruction / response pairs over the training scenes from ${stats.seeds} seed examples; the filter kept ${stats.kept} ` +
      `in ${stats.templates} distinct templates, ${stats.newTemplates} of them written by recombination (no task template has them). Each dropped pair counts under the first reason that applies.`,
    '',
    '| pairs | count | share |',
    '| --- | ---: | ---: |',
    `| generated | ${stats.generated} | 100.0% |`,
    `| kept | ${stats.kept} | ${share(stats.kept)} |`,
    ...rows,
    '',
  ].join('\n');
}
