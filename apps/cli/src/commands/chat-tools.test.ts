import { describe, it, expect, vi } from 'vitest';
import { PassThrough, Readable } from 'node:stream';
import { WordTokenizer } from '@mllm/tokenizer';
import type { ToolChat, ToolOutcome } from '@mllm/run';
import { capture } from '../capture-output.test-helper';

// the run behind the chat: a word vocabulary without "zebra" or "picture"; the controller answers "one"
const vocabulary = WordTokenizer.train(['how many objects are there ?', 'is there a red circle in the image ?']);
const asked: string[] = [];
vi.mock('@mllm/run', async (importOriginal) => ({
  ...(await importOriginal<typeof import('@mllm/run')>()),
  openToolChat: async (): Promise<ToolChat> => ({
    run: { unknownWords: (text: string) => vocabulary.unknownWords(text), loadImage: async () => new Float32Array(3) } as unknown as ToolChat['run'],
    paradigm: 'finetuned',
    toolNames: ['count'],
    ask: async (_image: Float32Array, question: string): Promise<ToolOutcome> => {
      asked.push(question);
      return { answer: 'one', trace: [{ role: 'decision maker', text: 'one' }], calls: 0, parseFailures: 0, errors: 0, turns: [] } as unknown as ToolOutcome;
    },
    reset: () => {},
    dispose: () => {},
  }),
}));
const { formatTrace, runToolChat } = await import('./chat-tools');

describe('mllm chat --tools', () => {
  it('names the words of a question the vocabulary lacks (read as <unk>), with --prompt on stderr and in a session before the trace', async () => {
    const output = new PassThrough();
    const chunks: string[] = [];
    output.on('data', (d: Buffer) => chunks.push(d.toString()));
    const c = capture();
    try {
      await runToolChat({ checkpoint: 'run', image: 'scene.png', prompt: 'how many zebras are in the picture ?', input: Readable.from([]), output });
      await runToolChat({ checkpoint: 'run', image: 'scene.png', prompt: 'how many objects are there ?', input: Readable.from([]), output });
    } finally {
      c.restore();
    }
    expect(c.err.join('')).toBe(
      'warning: the model\'s vocabulary lacks "zebras", "picture"; they are read as <unk>. Ask with the words it was trained on: a Shapes model knows lower-case questions such as "is there a red circle in the image ?" (mllm scene prints more)\n',
    );
    await runToolChat({ checkpoint: 'run', image: 'scene.png', input: Readable.from(['is there a zebra ?\n', 'is there a red circle ?\n', '/quit\n']), output });
    const transcript = chunks.join('');
    const warning = transcript.indexOf('warning: the model\'s vocabulary lacks "zebra"; it is read as <unk>.');
    expect(warning).toBeGreaterThan(0);
    expect(transcript.match(/warning:/g)).toHaveLength(1);
    // the question is still asked, after its warning
    expect(asked).toEqual(['how many zebras are in the picture ?', 'how many objects are there ?', 'is there a zebra ?', 'is there a red circle ?']);
  });
});

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
