/**
 * POPE: Polling-based Object Probing Evaluation (Li et al. 2023, arXiv:2305.10355).
 * The model answers "Is there a <object> in the image?" for objects that are present
 * (label yes) and absent (label no); "yes" is the positive class. Replies are read as POPE's
 * reference scorer reads them (github.com/RUCAIBox/POPE evaluate.py, copied unchanged into
 * LLaVA's eval_pope.py), so free-form replies score as the published numbers were scored.
 */
import { yesNo } from './answer';
import { safeRatio } from './ratio';

export interface PopeItem {
  label: 'yes' | 'no';
  /** The model's raw reply. */
  prediction: string;
}

export interface PopeMetrics {
  accuracy: number;
  precision: number;
  recall: number;
  f1: number;
  /** Share of replies read as "yes": ~0.5 on a balanced set; near 1 means a yes-sayer. */
  yesRatio: number;
  n: number;
  /**
   * Replies that start with neither yes nor no (see `yesNo`). They are still scored by
   * `popeReading`, which reads most of them as "yes"; many of them mean the model did not
   * follow the question's format.
   */
  other: number;
}

/**
 * How POPE's reference scorer reads a reply: only its first sentence (up to the first "."),
 * commas removed, split on single spaces; it says "no" when one of those words is exactly
 * `No`, `no` or `not`, and "yes" otherwise, so a reply that is neither a clear yes nor a clear
 * no ("a red circle", "I cannot tell") counts as yes, and "NO" or "No!" as yes too.
 *
 *   popeReading('No, there is not.') // 'no'     popeReading('There is no circle.') // 'no'
 *   popeReading('a red circle')      // 'yes'    popeReading('Yes. There is no square.') // 'yes'
 */
export function popeReading(reply: string): 'yes' | 'no' {
  const dot = reply.indexOf('.');
  const firstSentence = dot === -1 ? reply : reply.slice(0, dot);
  const words = firstSentence.replaceAll(',', '').split(' ');
  return words.includes('No') || words.includes('no') || words.includes('not') ? 'no' : 'yes';
}

/**
 * Score POPE replies. Ratios with a zero denominator are 0 (no yes predictions: precision 0).
 *
 *   popeMetrics([{ label: 'yes', prediction: 'Yes.' }, { label: 'no', prediction: 'yes' }])
 *   // accuracy 0.5, precision 0.5, recall 1, f1 2/3, yesRatio 1
 */
export function popeMetrics(items: readonly PopeItem[]): PopeMetrics {
  let tp = 0;
  let fp = 0;
  let tn = 0;
  let fn = 0;
  let other = 0;
  for (const { label, prediction } of items) {
    if (yesNo(prediction) === 'other') other++;
    const saysYes = popeReading(prediction) === 'yes';
    if (label === 'yes') {
      if (saysYes) tp++;
      else fn++;
    } else if (saysYes) fp++;
    else tn++;
  }
  const n = items.length;
  const precision = safeRatio(tp, tp + fp);
  const recall = safeRatio(tp, tp + fn);
  return {
    accuracy: safeRatio(tp + tn, n),
    precision,
    recall,
    f1: safeRatio(2 * precision * recall, precision + recall),
    yesRatio: safeRatio(tp + fp, n),
    n,
    other,
  };
}
