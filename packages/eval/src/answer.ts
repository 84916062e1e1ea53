/**
 * Answer normalisation for closed-set and POPE scoring. A generated reply such as
 * "Yes, there is a red circle." and a reference answer "yes" must compare equal; so must
 * "two ." and "two".
 */

/** What a yes/no reply starts with; POPE scores replies by `popeReading` (pope.ts), this only tells the clear ones from the rest. */
export type YesNo = 'yes' | 'no' | 'other';

const TRAILING_PUNCTUATION = /[\s.,!?;:'"]+$/;
const LEADING_PUNCTUATION = /^[\s.,!?;:'"]+/;

/** The first word of a text, lower-cased, without punctuation around it ("" for an empty text). */
function firstWord(text: string): string {
  const word = text.trim().toLowerCase().split(/\s+/)[0] ?? '';
  return word.replace(LEADING_PUNCTUATION, '').replace(/[^a-z0-9]+.*$/, '');
}

/**
 * Normalise an answer for exact-match scoring: lower-case, collapse whitespace, trim and strip
 * trailing punctuation; a reply whose first word is "yes" or "no" becomes just that word.
 *
 *   normalizeAnswer('  Two .')                 // 'two'
 *   normalizeAnswer('Yes, there is a circle.') // 'yes'
 *   normalizeAnswer('top left')                // 'top left'
 */
export function normalizeAnswer(text: string): string {
  const first = firstWord(text);
  if (first === 'yes' || first === 'no') return first;
  return text
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .replace(LEADING_PUNCTUATION, '')
    .replace(TRAILING_PUNCTUATION, '')
    .trim();
}

/**
 * Whether a yes/no reply starts with a clear answer: "yes" is yes, "no" or "not" is no, anything
 * else is 'other' (POPE still scores it, by `popeReading`; `PopeMetrics.other` counts these).
 *
 *   yesNo('Yes.') // 'yes'    yesNo('Not at all') // 'no'    yesNo('a red circle') // 'other'
 */
export function yesNo(text: string): YesNo {
  const first = firstWord(text);
  if (first === 'yes') return 'yes';
  if (first === 'no' || first === 'not') return 'no';
  return 'other';
}
