import { describe, expect, it } from 'vitest';
import { formatCall, parseReply } from './call-syntax';

describe('parseReply: the controller call syntax', () => {
  it('reads a call: the tool after "call", then its argument words', () => {
    expect(parseReply('call compare red circle left of blue square')).toEqual({ kind: 'call', tool: 'compare', args: ['red', 'circle', 'left', 'of', 'blue', 'square'] });
    expect(parseReply('  call   count  ')).toEqual({ kind: 'call', tool: 'count', args: [] });
    expect(parseReply('CALL Detect Red')).toEqual({ kind: 'call', tool: 'detect', args: ['red'] });
  });

  it('tolerates one trailing full stop, which ends every sentence of the world', () => {
    expect(parseReply('call count red .')).toEqual({ kind: 'call', tool: 'count', args: ['red'] });
  });

  it('reads anything without a call as the final answer, normalised to single spaces', () => {
    expect(parseReply('yes')).toEqual({ kind: 'answer', text: 'yes' });
    expect(parseReply(' two  .')).toEqual({ kind: 'answer', text: 'two .' });
  });

  it('calls malformed what it cannot run, with the reason', () => {
    expect(parseReply('')).toEqual({ kind: 'malformed', reason: 'empty reply , write a call or the answer' });
    expect(parseReply('call')).toEqual({ kind: 'malformed', reason: 'call needs a tool name after it' });
    expect(parseReply('yes call count')).toMatchObject({ kind: 'malformed', reason: expect.stringContaining('starting with call') });
    expect(parseReply('call count red , blue')).toMatchObject({ kind: 'malformed', reason: 'unreadable , in the call , write one call with words only' });
    expect(parseReply('call count call detect')).toMatchObject({ kind: 'malformed', reason: expect.stringContaining('unreadable call') });
    expect(parseReply('call ? red')).toMatchObject({ kind: 'malformed', reason: expect.stringContaining('unreadable ?') });
  });

  it('formatCall writes what parseReply reads back', () => {
    const text = formatCall('compare', ['red', 'circle', 'above', 'blue', 'square']);
    expect(text).toBe('call compare red circle above blue square');
    expect(parseReply(text)).toEqual({ kind: 'call', tool: 'compare', args: ['red', 'circle', 'above', 'blue', 'square'] });
  });
});
