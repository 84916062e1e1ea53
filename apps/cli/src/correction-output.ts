import type { PostCorrector } from '@mllm/run';

type PostCorrection = Awaited<ReturnType<PostCorrector['correct']>>;

/**
 * What `mllm chat --correct` prints after an answer: the corrected answer, then each edit with
 * the visual claim that caused it (Woodpecker's output is the answer and its evidence).
 */
export function correctionText(result: PostCorrection): string {
  if (result.concepts.length === 0) return 'corrected: unchanged (the answer names no object to check)\n';
  if (!result.changed) return 'corrected: unchanged (nothing the answer says contradicts what the detector sees)\n';
  const edits = result.corrections.map((c) => (c.after === '' ? `  dropped "${c.before}": ${c.claim}` : `  "${c.before}" -> "${c.after}": ${c.claim}`));
  return [`corrected: ${result.corrected}`, ...edits, ''].join('\n');
}
