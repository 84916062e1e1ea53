import { describe, expect, it } from 'vitest';
import { Rng } from '@mllm/core';
import { ShapesWorld } from './shapes-world';
import { detailedDescription } from './language';
import { REVISE_PROMPT, UNSURE_OBJECT, maskLateObjects, revisionSample } from './revision';

const world = new ShapesWorld({ seed: 4, imageSize: 32, sizes: { train: 200, val: 5, test: 5 } });

describe('revision pairs (LURE-style revisor data)', () => {
  it('asks to revise a description of the image and answers with the true one', () => {
    const rng = new Rng(1);
    let changed = 0;
    let masked = 0;
    for (const scene of world.scenes('train')) {
      const sample = revisionSample(scene, rng);
      const [human, gpt] = sample.conversations;
      expect(human!.value.startsWith(`<image>\n${REVISE_PROMPT} `)).toBe(true);
      expect(gpt!.value).toBe(detailedDescription(scene));
      const input = human!.value.slice(`<image>\n${REVISE_PROMPT} `.length);
      if (input !== gpt!.value) changed++;
      if (input.split(' ').includes(UNSURE_OBJECT)) masked++;
    }
    // about half the drafts are edited, and the phrasing varies besides; some late objects are masked
    expect(changed).toBeGreaterThan(100);
    expect(masked).toBeGreaterThan(20);
    expect(masked).toBeLessThan(150);
  });

  it('masks only objects in the second half of the text', () => {
    const text = 'a small red circle is at the top left . a large blue square is at the bottom right .';
    expect(maskLateObjects(text, new Rng(0), 1)).toBe('a small red circle is at the top left . a large idk is at the bottom right .');
    expect(maskLateObjects(text, new Rng(0), 0)).toBe(text);
  });
});
