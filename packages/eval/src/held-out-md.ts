import { cell, fmt3, table } from './report-md';
import type { HeldOutResult } from './held-out';

/** The report.md section of `eval.heldOut`: the four zero-shot figures, then accuracy per task in trained and held-out phrasings. */
export function heldOutSection(r: HeldOutResult): string[] {
  const ratio = r.phrasings.heldIn > 0 ? ` (held-out / held-in ${fmt3(r.phrasings.heldOut / r.phrasings.heldIn)})` : '';
  const rows = Object.entries(r.byTask).map(([task, a]) => [cell(task), a.split === 'heldIn' ? 'held in' : 'held out', fmt3(a.heldIn), a.heldOut === undefined ? '' : fmt3(a.heldOut)]);
  return [
    '## Held-in and held-out tasks and phrasings',
    '',
    `Tasks (trained phrasings): held-in ${fmt3(r.tasks.heldIn)} (${r.n.heldInTasks} questions), held-out zero-shot ${fmt3(r.tasks.heldOut)} (${r.n.heldOutTasks}). ` +
      `Phrasings (held-in tasks): trained ${fmt3(r.phrasings.heldIn)}, held-out ${fmt3(r.phrasings.heldOut)} (${r.n.heldOutPhrasings})${ratio}.`,
    '',
    ...table(['task', 'task split', 'trained phrasings', 'held-out phrasings'], rows, 2),
  ];
}
