import { describe, expect, it } from 'vitest';
import { formatTrace } from './chat-tools';

describe('formatTrace: the trace mllm chat --tools prints', () => {
  it('prints one line per step with its role, marks error results, and says when the calls ran out', () => {
    const outcome = {
      trace: [
        { role: 'user' as const, text: 'is the red circle left of the blue square ?' },
        { role: 'controller' as const, text: 'call zoom' },
        { role: 'tool' as const, text: 'error unknown tool zoom , tools are detect count compare', error: true },
        { role: 'decision maker' as const, text: 'call again' },
        { role: 'controller' as const, text: 'call compare red circle left of blue square' },
      ],
      calls: 2,
      parseFailures: 0,
      errors: 1,
      turns: [],
    };
    expect(formatTrace(outcome).split('\n')).toEqual([
      '[controller]         call zoom',
      '[tool error]         error unknown tool zoom , tools are detect count compare',
      '[decision maker]     call again',
      '[controller]         call compare red circle left of blue square',
      '[decision maker]     out of calls , no answer',
      '',
    ]);
  });
});
