/**
 * POPE: Polling-based Object Probing Evaluation (Li et al. 2023, arXiv:2305.10355).
 * The model answers "Is there a <object> in the image?" for objects that are present
 * (label yes) and absent (label no); "yes" is the positive class. A reply that is neither
 * yes nor no counts as "no", as in POPE's reference scorer.
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
  /** Replies that were neither yes nor no (scored as "no"). */
  other: number;
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
    const read = yesNo(prediction);
    if (read === 'other') other++;
    const saysYes = read === 'yes';
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
