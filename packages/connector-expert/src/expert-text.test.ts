import { describe, expect, it } from 'vitest';
import { ShapesWorld, caption } from '@mllm/data';
import { EXPERT_TEXT_TOKENS, EXPERT_WORDS, NOTHING_FOUND, renderExpertText, type RegionDetection } from './expert-text';

const circle: RegionDetection = { cell: 'top left', shape: 'circle', color: 'red', size: 'large' };
const square: RegionDetection = { cell: 'bottom right', shape: 'square', color: 'blue', size: 'small' };

describe('renderExpertText', () => {
  it('writes hand-worked detections in the caption grammar, in cell order whatever order they come in', () => {
    expect(renderExpertText([circle])).toBe('a large red circle at the top left .');
    expect(renderExpertText([square, circle])).toBe('a large red circle at the top left and a small blue square at the bottom right .');
  });

  it('says that nothing was found rather than writing an empty caption', () => {
    expect(renderExpertText([])).toBe(NOTHING_FOUND);
    expect(NOTHING_FOUND).toBe('there are zero objects in the image .');
  });

  it('refuses two objects in one cell, which the detector cannot produce', () => {
    expect(() => renderExpertText([circle, { ...square, cell: 'top left' }])).toThrow(/two detections in one cell/);
  });

  it('is the world caption of a scene when the detections are its ground truth', () => {
    const world = new ShapesWorld({ seed: 3, imageSize: 16, sizes: { train: 30, val: 2, test: 2 } });
    for (const scene of world.scenes('train')) expect(renderExpertText(scene.objects)).toBe(caption(scene));
  });

  it('fits every text in EXPERT_TEXT_TOKENS words, with the four-object text exactly that long, using only EXPERT_WORDS', () => {
    const full: RegionDetection[] = [
      { cell: 'top left', shape: 'triangle', color: 'yellow', size: 'small' },
      { cell: 'top right', shape: 'cross', color: 'green', size: 'large' },
      { cell: 'bottom left', shape: 'circle', color: 'red', size: 'small' },
      { cell: 'bottom right', shape: 'square', color: 'blue', size: 'large' },
    ];
    const words = renderExpertText(full).split(' ');
    expect(words).toHaveLength(EXPERT_TEXT_TOKENS);
    expect(EXPERT_TEXT_TOKENS).toBe(36);
    for (const w of [...words, ...NOTHING_FOUND.split(' ')]) expect(EXPERT_WORDS).toContain(w);
  });
});
