import { describe, expect, it } from 'vitest';
import { chair, checkCaption } from './chair';

const redCircleBlueSquare = {
  id: 'a',
  objects: [
    { color: 'red', shape: 'circle' },
    { color: 'blue', shape: 'square' },
  ],
};
const greenCross = { id: 'b', objects: [{ color: 'green', shape: 'cross' }] };

describe('checkCaption', () => {
  it('separates hallucinated mentions from covered categories', () => {
    const c = checkCaption('A red circle, a yellow triangle and a red circle.', redCircleBlueSquare);
    expect(c.mentions).toEqual(['red circle', 'yellow triangle', 'red circle']);
    expect(c.hallucinated).toEqual(['yellow triangle']);
    expect(c.covered).toEqual(['red circle']);
    expect(c.groundTruth).toEqual(['red circle', 'blue square']);
  });

  it('counts a right shape in the wrong colour as a hallucination', () => {
    expect(checkCaption('a blue circle', redCircleBlueSquare).hallucinated).toEqual(['blue circle']);
  });
});

describe('chair', () => {
  it('computes CHAIR_i over all mentions and CHAIR_s over captions', () => {
    const r = chair([
      // 3 mentions, 1 hallucinated (yellow triangle); covers 1 of 2 categories.
      { caption: 'a red circle , a yellow triangle and a red circle', scene: redCircleBlueSquare },
      // 2 mentions, 0 hallucinated; covers 2 of 2.
      { caption: 'a blue square above a red circle', scene: redCircleBlueSquare },
      // 2 mentions, 2 hallucinated; covers 0 of 1.
      { caption: 'a red cross and a green square', scene: greenCross },
      // 0 mentions; covers 0 of 1.
      { caption: 'a picture', scene: greenCross },
    ]);
    expect(r.captions).toBe(4);
    expect(r.mentions).toBe(7);
    expect(r.hallucinated).toBe(3);
    expect(r.hallucinatedCaptions).toBe(2);
    expect(r.chairI).toBeCloseTo(3 / 7, 12);
    expect(r.chairS).toBeCloseTo(2 / 4, 12);
    expect(r.coverage).toBeCloseTo(3 / 6, 12);
  });

  it('scores a perfect caption 0 / 0 with full coverage', () => {
    const r = chair([{ caption: 'a green cross', scene: greenCross }]);
    expect(r).toMatchObject({ chairI: 0, chairS: 0, coverage: 1, mentions: 1, hallucinated: 0 });
  });

  it('does not reward silence: no mentions give CHAIR 0 but coverage 0', () => {
    const r = chair([{ caption: '', scene: greenCross }]);
    expect(r).toMatchObject({ chairI: 0, chairS: 0, coverage: 0, mentions: 0 });
  });

  it('returns zeros for no captions', () => {
    expect(chair([])).toEqual({
      chairI: 0,
      chairS: 0,
      coverage: 0,
      captions: 0,
      mentions: 0,
      hallucinated: 0,
      hallucinatedCaptions: 0,
      byAttribute: { color: 0, size: 0, position: 0 },
      attributes: { stated: { color: 0, size: 0, position: 0 }, wrong: { color: 0, size: 0, position: 0 } },
    });
  });
});

describe('chair with attributes', () => {
  it('reports attribute CHAIR beside CHAIR_i when scenes carry size and cell', () => {
    const scene = { id: 's', objects: [{ shape: 'circle', color: 'red', size: 'small', cell: 'top left' }] };
    const c = chair([{ caption: 'a large red circle is at the top left and a blue cross .', scene }]);
    expect(c.chairI).toBe(0.5); // the blue cross is not there
    expect(c.byAttribute).toEqual({ color: 0, size: 1, position: 0 });
    expect(c.attributes).toEqual({ stated: { color: 1, size: 1, position: 1 }, wrong: { color: 0, size: 1, position: 0 } });
  });
});
