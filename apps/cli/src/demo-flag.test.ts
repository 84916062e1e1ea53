import { describe, it, expect } from 'vitest';
import { MllmError } from '@mllm/core';
import { parseDemoFlag } from './demo-flag';

describe('--demo', () => {
  it('reads image, question and answer in any order, commas inside a field kept', () => {
    expect(parseDemoFlag('image=a.png,q=what word goes with the circle ?,a=two', 0)).toEqual({ image: 'a.png', question: 'what word goes with the circle ?', answer: 'two' });
    expect(parseDemoFlag('a=yes , no,q=is it red , or blue ?,image=dir/b.png', 0)).toEqual({ image: 'dir/b.png', question: 'is it red , or blue ?', answer: 'yes , no' });
  });

  it.each([
    ['image=a.png,q=what ?', /--demo 2 .*missing a=/],
    ['image=a.png', /missing q= and a=/],
    ['image=a.png,q=what ?,a=', /"a=" is empty/],
    ['image=a.png,q=x,q=y,a=z', /"q=" appears twice/],
    ['picture=a.png,q=x,a=y', /"picture=a.png" is not a field; write image=FILE,q=QUESTION,a=ANSWER/],
    ['just text', /is not a field/],
  ])('refuses %j with a MllmError that shows the format', (spec, message) => {
    expect(() => parseDemoFlag(spec, 1)).toThrow(MllmError);
    expect(() => parseDemoFlag(spec, 1)).toThrow(message);
  });
});
