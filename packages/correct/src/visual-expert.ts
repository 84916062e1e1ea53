/**
 * Where a post-correction pipeline gets its visual knowledge: an expert model that sees the
 * image (Woodpecker uses an open-set detector for existence and counts and a VQA model for
 * attributes). Here one interface: the objects the expert sees, with colour and shape and,
 * when it can tell, size and cell. The Shapes region head (a detector trained with the
 * encoder) is one; a test passes a fixed list.
 */
export interface SeenObject {
  color: string;
  shape: string;
  size?: string;
  cell?: string;
  /** How sure the expert is of this object's shape, in [0, 1] (a detector's probability); absent: sure. */
  confidence?: number;
  /** How likely the expert finds each shape at this object's place (a detector's class probabilities); absent: only its call is known. */
  shapeProbabilities?: Readonly<Record<string, number>>;
}

export interface ObjectExpert {
  /** What the expert sees in the image the answer is about. */
  objects(): Promise<readonly SeenObject[]> | readonly SeenObject[];
}

/** An expert that reports a fixed list (a detector's output computed beforehand, or a test's). */
export function fixedExpert(objects: readonly SeenObject[]): ObjectExpert {
  return { objects: () => objects };
}
