/**
 * Attribute-level CHAIR: CHAIR (Rohrbach et al. 2018) counts objects that are not there; a
 * description can name every object right and still get its colour, size or place wrong, and
 * no existence metric sees that. Per attribute kind, the share of stated attributes that are
 * wrong, over the mentions of objects that ARE there (a mention of an absent shape is CHAIR's
 * object hallucination, not an attribute one):
 *   colour   - "red circle" when the scene has circles, none red (at the stated cell, if one is
 *              stated and holds a circle);
 *   size     - "small red circle" when the red circles there (at that cell, if stated) are all large;
 *   position - "red circle at the top left" when no red circle is at the top left.
 * A mention is CHAIR's "<colour> <shape>" word pair; a size word right before it and a cell
 * after it ("at / in / on [the] top left [corner]", "is at the ...") are its stated attributes.
 */
import { SHAPES_VOCABULARY, type MentionVocabulary } from './mentions';
import { safeRatio } from './ratio';

export const ATTRIBUTE_KINDS = ['color', 'size', 'position'] as const;
export type AttributeKind = (typeof ATTRIBUTE_KINDS)[number];

/** A scene with what attribute CHAIR checks; `size` and `cell` as @mllm/data's Scene has them ("small", "top left"). */
export interface AttributeScene {
  objects: { shape: string; color: string; size?: string; cell?: string }[];
}

/** What one mention states: colour and shape always, size and cell when the text gives them. */
export interface AttributeClaim {
  color: string;
  shape: string;
  size?: string;
  cell?: string;
}

export interface AttributeChairResult {
  /** Per kind: wrong / stated (0 when nothing of that kind was stated). */
  byAttribute: Record<AttributeKind, number>;
  /** Per kind: attributes stated about objects that are there. */
  stated: Record<AttributeKind, number>;
  /** Per kind: of those, the wrong ones. */
  wrong: Record<AttributeKind, number>;
}

const SIZES = new Set(['small', 'large']);
const ROWS = new Set(['top', 'bottom']);
const COLUMNS = new Set(['left', 'right']);
const LINKS = new Set(['is', 'at', 'in', 'on', 'the']);

function singular(word: string, shapes: ReadonlySet<string>): string | undefined {
  if (shapes.has(word)) return word;
  for (const cut of ['es', 's']) if (word.endsWith(cut) && shapes.has(word.slice(0, -cut.length))) return word.slice(0, -cut.length);
  return undefined;
}

/** The cell named from words[i] on, after at most three link words ("is at the"), or undefined. */
function cellAfter(words: readonly string[], i: number): string | undefined {
  let k = i;
  while (k < words.length && k < i + 3 && LINKS.has(words[k]!)) k++;
  if (k === i || !words.slice(i, k).some((w) => w === 'at' || w === 'in' || w === 'on')) return undefined;
  const [row, column] = [words[k], words[k + 1]];
  return row && column && ROWS.has(row) && COLUMNS.has(column) ? `${row} ${column}` : undefined;
}

/**
 * Every mention in `text` with its stated size and cell.
 *
 *   attributeClaims('a small red circle is at the top left .')
 *   // [{ color: 'red', shape: 'circle', size: 'small', cell: 'top left' }]
 */
export function attributeClaims(text: string, vocabulary: MentionVocabulary = SHAPES_VOCABULARY): AttributeClaim[] {
  const colors = new Set(vocabulary.colors);
  const shapes = new Set(vocabulary.shapes);
  const words = text.toLowerCase().split(/[^a-z]+/).filter((w) => w.length > 0);
  const claims: AttributeClaim[] = [];
  for (let i = 0; i + 1 < words.length; i++) {
    const shape = singular(words[i + 1]!, shapes);
    if (!colors.has(words[i]!) || shape === undefined) continue;
    const size = i > 0 && SIZES.has(words[i - 1]!) ? words[i - 1] : undefined;
    const cell = cellAfter(words, i + 2);
    claims.push({ color: words[i]!, shape, ...(size && { size }), ...(cell && { cell }) });
  }
  return claims;
}

type Verdicts = Partial<Record<AttributeKind, boolean>>; // true = wrong

/** Which stated attributes of one claim are wrong; kinds not stated, or about an absent shape, are left out. */
export function checkAttributeClaim(claim: AttributeClaim, scene: AttributeScene): Verdicts {
  const sameShape = scene.objects.filter((o) => o.shape === claim.shape);
  if (sameShape.length === 0) return {}; // an absent object: CHAIR_i counts it
  const atCell = claim.cell ? sameShape.filter((o) => o.cell === claim.cell) : [];
  const referents = atCell.length > 0 ? atCell : sameShape;
  const verdicts: Verdicts = { color: !referents.some((o) => o.color === claim.color) };
  const sameColor = referents.filter((o) => o.color === claim.color);
  if (claim.size && sameColor.length > 0 && sameColor.every((o) => o.size !== undefined)) verdicts.size = !sameColor.some((o) => o.size === claim.size);
  const category = sameShape.filter((o) => o.color === claim.color);
  if (claim.cell && category.length > 0 && category.every((o) => o.cell !== undefined)) verdicts.position = !category.some((o) => o.cell === claim.cell);
  return verdicts;
}

/** Attribute CHAIR over a set of texts, each with its scene. */
export function attributeChair(items: readonly { caption: string; scene: AttributeScene }[], vocabulary: MentionVocabulary = SHAPES_VOCABULARY): AttributeChairResult {
  const stated = { color: 0, size: 0, position: 0 };
  const wrong = { color: 0, size: 0, position: 0 };
  for (const { caption, scene } of items)
    for (const claim of attributeClaims(caption, vocabulary)) {
      const verdicts = checkAttributeClaim(claim, scene);
      for (const kind of ATTRIBUTE_KINDS) {
        if (verdicts[kind] === undefined) continue;
        stated[kind]++;
        if (verdicts[kind]) wrong[kind]++;
      }
    }
  const byAttribute = Object.fromEntries(ATTRIBUTE_KINDS.map((k) => [k, safeRatio(wrong[k], stated[k])])) as Record<AttributeKind, number>;
  return { byAttribute, stated, wrong };
}
