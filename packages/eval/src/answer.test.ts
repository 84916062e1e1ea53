import { describe, expect, it } from 'vitest';
import { normalizeAnswer, yesNo } from './answer';

describe('normalizeAnswer', () => {
  it('lower-cases, trims and strips trailing punctuation', () => {
    expect(normalizeAnswer('  Two .')).toBe('two');
    expect(normalizeAnswer('two')).toBe('two');
    expect(normalizeAnswer('Top   Left!')).toBe('top left');
    expect(normalizeAnswer('red?!')).toBe('red');
  });

  it('keeps only the first word of a yes/no reply', () => {
    expect(normalizeAnswer('Yes, there is a red circle.')).toBe('yes');
    expect(normalizeAnswer('no there is not')).toBe('no');
    expect(normalizeAnswer('NO.')).toBe('no');
  });

  it('does not treat words that merely start with yes/no as yes/no', () => {
    expect(normalizeAnswer('nothing here.')).toBe('nothing here');
    expect(normalizeAnswer('yesterday')).toBe('yesterday');
  });

  it('maps an empty or punctuation-only reply to the empty string', () => {
    expect(normalizeAnswer('')).toBe('');
    expect(normalizeAnswer(' . ')).toBe('');
  });
});

describe('yesNo', () => {
  it('reads yes, no and not as POPE does', () => {
    expect(yesNo('Yes.')).toBe('yes');
    expect(yesNo('yes , there is a blue square')).toBe('yes');
    expect(yesNo('No, there is not.')).toBe('no');
    expect(yesNo('not in this image')).toBe('no');
  });

  it('returns other for anything else', () => {
    expect(yesNo('a red circle')).toBe('other');
    expect(yesNo('')).toBe('other');
    expect(yesNo('nope')).toBe('other');
    expect(yesNo('yesterday')).toBe('other');
    expect(yesNo('there is no circle')).toBe('other');
  });
});
