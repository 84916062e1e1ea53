import type { VisualTokens } from './protocol';

/**
 * What each visual token looks like to the LLM: its length, and the vocabulary words whose input
 * embeddings point the most in its direction (cosine). A reading aid in the spirit of the logit
 * lens, not a claim of what the token "means".
 * features [M * D] (one image's tokens), embeddings [V * D].
 */
export function visualTokens(features: Float32Array, embeddings: Float32Array, dim: number, word: (id: number) => string, top = 3): VisualTokens {
  const m = features.length / dim;
  const v = embeddings.length / dim;
  const norm = (data: Float32Array, row: number) => Math.hypot(...data.subarray(row * dim, (row + 1) * dim));
  const wordNorms = Array.from({ length: v }, (_, i) => norm(embeddings, i));
  const norms: number[] = [];
  const nearest: VisualTokens['nearest'] = [];
  for (let i = 0; i < m; i++) {
    const n = norm(features, i);
    norms.push(n);
    const scored: { id: number; cosine: number }[] = [];
    for (let w = 0; w < v; w++) {
      let dot = 0;
      for (let k = 0; k < dim; k++) dot += features[i * dim + k]! * embeddings[w * dim + k]!;
      scored.push({ id: w, cosine: dot / (n * wordNorms[w]! || 1) });
    }
    scored.sort((a, b) => b.cosine - a.cosine);
    nearest.push(
      scored
        .filter((s) => word(s.id) !== '')
        .slice(0, top)
        .map((s) => ({ word: word(s.id), cosine: s.cosine })),
    );
  }
  return { norms, nearest };
}
