import { describe, it, expect } from 'vitest';
import { woodpeckerCorrect, fixedExpert } from '@mllm/correct';
import { correctionText } from './correction-output';

const seen = fixedExpert([{ color: 'red', shape: 'circle', size: 'small', cell: 'top left' }]);

describe('correctionText: what mllm chat --correct prints after an answer', () => {
  it('prints the corrected answer with each edit and the claim behind it, hand-worked', async () => {
    const result = await woodpeckerCorrect('a large red circle is at the top left . a blue square is at the bottom right .', seen);
    expect(correctionText(result)).toBe(
      [
        'corrected: a small red circle is at the top left .',
        '  "large" -> "small": the red circle is small',
        '  dropped "a blue square is at the bottom right .": there is no blue square',
        '',
      ].join('\n'),
    );
  });

  it('says why nothing changed: no object named, or nothing contradicted', async () => {
    expect(correctionText(await woodpeckerCorrect('yes', seen))).toBe('corrected: unchanged (the answer names no object to check)\n');
    expect(correctionText(await woodpeckerCorrect('a small red circle .', seen))).toBe('corrected: unchanged (nothing the answer says contradicts what the detector sees)\n');
  });
});
