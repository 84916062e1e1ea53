import { describe, it, expect } from 'vitest';
import { MllmError } from '@mllm/core';
import { conversationTurns } from './answerer';

describe('conversationTurns', () => {
  it('puts a prompt string after the image placeholder, as single-turn answers always had it', () => {
    expect(conversationTurns('what color is the circle ?')).toEqual([{ from: 'human', value: '<image>\nwhat color is the circle ?' }]);
  });

  it('puts the image in the first human turn of a conversation and keeps the rest as they are', () => {
    const turns = [
      { from: 'human', value: 'what color is the circle ?' },
      { from: 'gpt', value: 'red' },
      { from: 'human', value: 'how many objects are there ?' },
    ] as const;
    expect(conversationTurns(turns)).toEqual([{ from: 'human', value: '<image>\nwhat color is the circle ?' }, turns[1], turns[2]]);
    // one placeholder already written is left where it is
    const placed = [{ from: 'human', value: 'look: <image> what is it ?' }] as const;
    expect(conversationTurns(placed)).toEqual(placed);
  });

  it.each([
    [[], /must end with a human turn/],
    [[{ from: 'human', value: 'a' }, { from: 'gpt', value: 'b' }], /must end with a human turn/],
    [[{ from: 'gpt', value: 'a' }, { from: 'human', value: 'b' }], /turn 0 is from "gpt"; turns alternate human, gpt/],
    [[{ from: 'human', value: 'a' }, { from: 'human', value: 'b' }], /turn 1 is from "human"/],
    [[{ from: 'human', value: '<image> a' }, { from: 'gpt', value: 'b' }, { from: 'human', value: '<image> c' }], /one image, but its turns hold 2 "<image>" placeholders/],
  ] as const)('refuses %j with an MllmError saying how turns go', (turns, message) => {
    expect(() => conversationTurns(turns)).toThrow(MllmError);
    expect(() => conversationTurns(turns)).toThrow(message);
  });
});
