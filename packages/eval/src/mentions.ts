/**
 * Object mentions in free text, the unit CHAIR counts: a colour word directly followed by a
 * shape word ("red circle"). Mirrors @mllm/data's `parseMentions` (same Shapes-world
 * vocabulary, same adjacent-pair rule) so that eval has no runtime dependency on data; it is
 * also forgiving of case, punctuation and plurals ("Two red circles." mentions "red circle"),
 * as CHAIR singularises words before matching (Rohrbach et al. 2018).
 */

/** The ground truth eval needs from a scene: structurally compatible with @mllm/data's Scene. */
export interface GroundTruthScene {
  id: string;
  /** `size` ("small", "large") and `cell` ("top left", ...) when known: attribute CHAIR checks them. */
  objects: { shape: string; color: string; size?: string; cell?: string }[];
}

/** The words that make a category: any colour followed by any shape. */
export interface MentionVocabulary {
  colors: readonly string[];
  shapes: readonly string[];
}

/** The Shapes world's vocabulary; the same lists as @mllm/data's COLORS and SHAPES. */
export const SHAPES_VOCABULARY: MentionVocabulary = {
  colors: ['red', 'green', 'blue', 'yellow'],
  shapes: ['circle', 'square', 'triangle', 'cross'],
};

/** A category as POPE and CHAIR count it, e.g. "red circle". */
export function categoryKey(o: { color: string; shape: string }): string {
  return `${o.color} ${o.shape}`;
}

/** The distinct categories present in a scene. */
export function groundTruthCategories(scene: GroundTruthScene): Set<string> {
  return new Set(scene.objects.map(categoryKey));
}

/** Map every accepted word form (singular and plural) to its shape. */
function shapeForms(shapes: readonly string[]): Map<string, string> {
  const forms = new Map<string, string>();
  for (const shape of shapes) {
    forms.set(shape, shape);
    forms.set(/(s|x|z|ch|sh)$/.test(shape) ? `${shape}es` : `${shape}s`, shape);
  }
  return forms;
}

/**
 * Every "<colour> <shape>" adjacent word pair in `text`, in order, duplicates kept.
 *
 *   chairMentions('A red circle left of two blue crosses.') // ['red circle', 'blue cross']
 *   chairMentions('a red large circle')                     // [] (not adjacent)
 */
export function chairMentions(text: string, vocabulary: MentionVocabulary = SHAPES_VOCABULARY): string[] {
  const colors = new Set(vocabulary.colors);
  const shapes = shapeForms(vocabulary.shapes);
  const words = text.toLowerCase().split(/[^a-z]+/).filter((w) => w.length > 0);
  const mentions: string[] = [];
  for (let i = 0; i + 1 < words.length; i++) {
    const color = words[i]!;
    const shape = shapes.get(words[i + 1]!);
    if (colors.has(color) && shape !== undefined) mentions.push(`${color} ${shape}`);
  }
  return mentions;
}
