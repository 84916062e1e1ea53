import { describe, expect, it } from 'vitest';
import type { Scene } from '@mllm/data';
import { checkAnswer, pieceMarks } from './answer-check';

describe('pieceMarks', () => {
  const scene: Scene = { id: 's', objects: [{ cell: 'top left', shape: 'circle', color: 'red', size: 'small', x: 0, y: 0 }] };

  it("marks every piece of a mention with the mention's check, whole words or not", () => {
    const pieces = [' a', ' re', 'd', ' circle', ' and', ' a', ' blue', ' squ', 'are', ' .'];
    const check = checkAnswer(pieces.join(''), scene);
    expect(pieceMarks(pieces, check)).toEqual([undefined, 'grounded', 'grounded', 'grounded', undefined, undefined, 'hallucinated', 'hallucinated', 'hallucinated', undefined]);
  });
});
